import Foundation
import FuzzTargets
import Testing

/// One committed fuzz input: a seed (Tests/FuzzCorpus/<target>/) or an input that once crashed or hung
/// (Tests/FuzzRegressions/<target>/).
struct FuzzInput: CustomTestStringConvertible, Sendable {
    let target: FuzzTarget
    let path: URL

    var testDescription: String { "\(target.rawValue)/\(path.lastPathComponent)" }

    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func all(in folder: String) -> [FuzzInput] {
        FuzzTarget.allCases.flatMap { target -> [FuzzInput] in
            let directory = testsFolder.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().map { FuzzInput(target: target, path: directory.appendingPathComponent($0)) }
        }
    }
}

/// Every committed fuzz input replayed through its target without sanitizers. A target returns on any input; a
/// regression shows as a trap that ends this test process (or, for the JSON reader, as its time budget tripping).
@Suite struct FuzzReplayTests {
    @Test(arguments: FuzzInput.all(in: "FuzzRegressions"))
    func regression(_ input: FuzzInput) throws {
        input.target.run(Array(try Data(contentsOf: input.path)))
    }

    @Test(arguments: FuzzInput.all(in: "FuzzCorpus"))
    func seed(_ input: FuzzInput) throws {
        input.target.run(Array(try Data(contentsOf: input.path)))
    }

    /// The regression and seed folders hold only folders named after targets: a misspelt folder would be replayed
    /// by nobody.
    @Test func foldersNameTargets() throws {
        for folder in ["FuzzCorpus", "FuzzRegressions"] {
            let names = try FileManager.default.contentsOfDirectory(
                atPath: FuzzInput.testsFolder.appendingPathComponent(folder).path)
            for name in names { #expect(FuzzTarget(rawValue: name) != nil, "\(folder)/\(name) names no target") }
        }
    }
}

import Foundation
import FuzzTargets

/// The target this process fuzzes, from `MARTLET_FUZZ_TARGET` (libFuzzer owns the command line).
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["MARTLET_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set MARTLET_FUZZ_TARGET to one of: \(targetNames(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

func targetNames(separator: String) -> String {
    FuzzTarget.allCases.map(\.rawValue).joined(separator: separator)
}

/// `martlet-fuzz --list` prints one target name a line, so that scripts/fuzz.sh runs every target the binary has.
func listTargetsIfAsked(_ arguments: [String]) {
    guard arguments.contains("--list") else { return }
    print(targetNames(separator: "\n"))
    exit(0)
}

/// libFuzzer calls this once before the first input; `--list` is answered here because libFuzzer owns `main`.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    // libFuzzer's own argument vector: `main` is libFuzzer's, not Swift's.
    let count = Int(argc?.pointee ?? 0)
    let arguments = (0..<count).compactMap { index in argv?.pointee?[index].map { String(cString: $0) } }
    listTargetsIfAsked(arguments)
    _ = selectedTarget
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget.run(bytes)
    return 0
}

#if !FUZZING
/// Without libFuzzer (an ordinary build) the same binary replays inputs: `martlet-fuzz TARGET FILE_OR_DIR...`,
/// so a crash found once stays a runnable case.
@main
enum Replay {
    static func main() {
        listTargetsIfAsked(CommandLine.arguments)
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: martlet-fuzz TARGET FILE_OR_DIR...  (targets: \(targetNames(separator: ", ")))")
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs through \(name)")
    }
}
#endif

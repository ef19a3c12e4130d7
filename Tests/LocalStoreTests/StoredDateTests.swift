import Foundation
import Testing

@testable import LocalStore

/// Dates become milliseconds in the index; no date, however far out, may trap that conversion.
@Suite("Stored dates")
struct StoredDateTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let seconds: Double
        let milliseconds: Int64
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "the epoch", seconds: 0, milliseconds: 0),
        Case(name: "a second before the epoch", seconds: -1, milliseconds: -1_000),
        Case(name: "a fraction rounds", seconds: 1.0004, milliseconds: 1_000),
        Case(name: "9999-12-31T23:59:59Z", seconds: 253_402_300_799, milliseconds: 253_402_300_799_000),
        Case(name: "year 10^12 is clamped", seconds: 3.15e19, milliseconds: 253_402_300_800_000),
        Case(name: "past Int64 is clamped", seconds: 1e300, milliseconds: 253_402_300_800_000),
        Case(name: "far before the epoch is clamped", seconds: -1e300, milliseconds: -253_402_300_800_000),
        Case(name: "infinity is 0", seconds: .infinity, milliseconds: 0),
        Case(name: "NaN is 0", seconds: .nan, milliseconds: 0),
    ]

    @Test("dates to milliseconds", arguments: cases)
    func milliseconds(_ test: Case) {
        #expect(SQLiteIndex.milliseconds(Date(timeIntervalSince1970: test.seconds)) == test.milliseconds)
    }
}

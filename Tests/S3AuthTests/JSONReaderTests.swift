import Foundation
import Testing

@_spi(Fuzzing) @testable import S3Auth

@Suite("The policy JSON reader: one pass, linear time, a depth bound")
struct JSONReaderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let expected: Result<JSONValue, JSONValue.ParseError>
        var testDescription: String { name }

        init(_ name: String, _ text: String, _ expected: Result<JSONValue, JSONValue.ParseError>) {
            self.init(name, Array(text.utf8), expected)
        }

        init(_ name: String, _ bytes: [UInt8], _ expected: Result<JSONValue, JSONValue.ParseError>) {
            self.name = name
            self.bytes = bytes
            self.expected = expected
        }
    }

    static let maxDepth = 4

    static func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "1") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    static func arrays(_ depth: Int) -> JSONValue {
        (0..<depth).reduce(JSONValue.number(1)) { inner, _ in .array([inner]) }
    }

    static let cases: [Case] = [
        Case("an object of every kind of value", #" {"s":"x","n":-1.5e2,"t":true,"f":false,"z":null,"a":[],"o":{}} "#,
             .success(.object(["s": .string("x"), "n": .number(-150), "t": .bool(true), "f": .bool(false), "z": .null,
                               "a": .array([]), "o": .object([:])]))),
        Case("a scalar document", "42", .success(.number(42))),
        Case("a byte order mark before the document", [0xEF, 0xBB, 0xBF] + Array("[1]".utf8), .success(.array([.number(1)]))),
        Case("of duplicate keys the first is kept", #"{"a":1,"a":2}"#, .success(.object(["a": .number(1)]))),
        Case("every escape", #"["\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00"]"#,
             .success(.array([.string("\"\\/\u{8}\u{C}\n\r\tAé😀")]))),
        Case("raw UTF-8 in a string", "[\"café ☕\"]", .success(.array([.string("café ☕")]))),
        Case("a 400-digit fraction", "0." + String(repeating: "0", count: 398) + "1", .success(.number(0))),
        Case("depth at the bound", nested(maxDepth), .success(arrays(maxDepth))),
        Case("objects at the bound", nested(maxDepth, open: #"{"a":"#, close: "}"),
             .success((0..<maxDepth).reduce(JSONValue.number(1)) { inner, _ in .object(["a": inner]) })),

        Case("arrays one past the bound", nested(maxDepth + 1), .failure(.tooDeep)),
        Case("objects one past the bound", nested(maxDepth + 1, open: #"{"a":"#, close: "}"), .failure(.tooDeep)),
        Case("too deep is found before a later syntax error", String(repeating: "[", count: maxDepth + 1) + "@@@", .failure(.tooDeep)),
        Case("a 400-digit integer (beyond Double)", String(repeating: "9", count: 400), .failure(.invalid)),
        Case("an exponent beyond Double", "1e400", .failure(.invalid)),
        Case("a leading zero", "01", .failure(.invalid)),
        Case("a bare minus", "-", .failure(.invalid)),
        Case("a fraction without digits", "1.", .failure(.invalid)),
        Case("an exponent without digits", "1e+", .failure(.invalid)),
        Case("invalid UTF-8 in a string", [0x22, 0xFF, 0x22], .failure(.invalid)),
        Case("a truncated UTF-8 sequence", [0x22, 0xE2, 0x98, 0x22], .failure(.invalid)),
        Case("a lone high surrogate", #""\ud800""#, .failure(.invalid)),
        Case("a lone low surrogate", #""\udc00""#, .failure(.invalid)),
        Case("a high surrogate before a non-surrogate", #""\ud800\u0041""#, .failure(.invalid)),
        Case("a short \\u escape", #""\u12""#, .failure(.invalid)),
        Case("an unknown escape", #""\x""#, .failure(.invalid)),
        Case("a raw control character in a string", "\"a\u{1}b\"", .failure(.invalid)),
        Case("an unterminated string", "\"abc", .failure(.invalid)),
        Case("an unterminated object", #"{"a":1"#, .failure(.invalid)),
        Case("a trailing comma", "[1,]", .failure(.invalid)),
        Case("a key that is not a string", "{1:2}", .failure(.invalid)),
        Case("trailing content", "{} {}", .failure(.invalid)),
        Case("a misspelt literal", "[tru]", .failure(.invalid)),
        Case("an empty document", "", .failure(.invalid)),
        Case("only space", " \n\t", .failure(.invalid)),
    ]

    @Test(arguments: cases)
    func parse(_ test: Case) {
        #expect(Result { () throws(JSONValue.ParseError) in try JSONValue.parse(test.bytes, maxDepth: Self.maxDepth) } == test.expected)
    }

    /// Large flat documents: a 1 MiB array of numbers and a 1 MiB string with escapes, parsed whole.
    @Test func largeFlatDocuments() throws {
        let count = 1 << 18
        let array = "[" + Array(repeating: "123", count: count).joined(separator: ",") + "]"
        guard case .array(let items) = try JSONValue.parse(Array(array.utf8), maxDepth: 1) else { Issue.record(); return }
        #expect(items.count == count)
        let text = String(repeating: #"ab\"\u00e9"#, count: 1 << 17)
        let string = try JSONValue.parse(Array(("\"" + text + "\"").utf8), maxDepth: 1)
        #expect(string == .string(String(repeating: "ab\"é", count: 1 << 17)))
    }

    /// Time grows with size, not faster: eight times the bytes may cost at most sixteen times the time (a quadratic
    /// reader would take 64 times), measured as the best of three runs so that a busy machine does not decide.
    @Test func timeIsLinearInSize() throws {
        func best(_ document: [UInt8]) throws -> Duration {
            var times: [Duration] = []
            for _ in 0..<3 {
                let clock = ContinuousClock()
                let start = clock.now
                _ = try? JSONValue.parse(document, maxDepth: 8)
                times.append(clock.now - start)
            }
            return times.min() ?? .zero
        }
        func document(_ statements: Int) -> [UInt8] {
            let statement = #"{"Effect":"Allow","Principal":{"AWS":["a","b"]},"Condition":{"StringEquals":{"k":["v\u00e9"]}}}"#
            return Array(("{\"Statement\":[" + Array(repeating: statement, count: statements).joined(separator: ",") + "]}").utf8)
        }
        let small = try best(document(2_000))
        let large = try best(document(16_000))
        #expect(large < small * 16, "\(small) for 2,000 statements, \(large) for 16,000")
    }
}

@Suite("Documents nested deeper than their grammar are refused with the operation's error")
struct JSONDepthRefusalTests {
    /// The issue's document: `{"a":` 500 times around 1, inside a POST policy.
    static func deepPostPolicy(_ depth: Int) -> String {
        #"{"expiration":"2030-01-01T00:00:00Z","conditions":[],"z":"# + String(repeating: #"{"a":"#, count: depth) + "1"
            + String(repeating: "}", count: depth) + "}"
    }

    @Test(arguments: [4, 500, 5_000])
    func postPolicy(depth: Int) {
        let encoded = Data(Self.deepPostPolicy(depth).utf8).base64EncodedString()
        #expect { try PostPolicy.parse(base64: encoded) } throws: { error in
            (error as? AuthFailure)?.code == .invalidPolicyDocument
        }
    }

    @Test func postPolicyAtItsBound() throws {
        // document, conditions, a condition, and one more container the grammar then refuses by name.
        let encoded = Data(#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key",["x"]]]}"#.utf8).base64EncodedString()
        #expect { try PostPolicy.parse(base64: encoded) } throws: { error in
            (error as? AuthFailure)?.message == "Invalid Policy: Invalid Condition: wrong number of arguments or a field not named with '$'."
        }
    }

    static func policy(around inner: String, depth: Int) -> [UInt8] {
        let deep = String(repeating: #"{"a":"#, count: depth) + inner + String(repeating: "}", count: depth)
        return Array((#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:x":"# + deep + "}}}]}").utf8)
    }

    @Test(arguments: [PolicyDocument.Kind.resource, .identity])
    func policyTooDeep(kind: PolicyDocument.Kind) {
        // Five containers surround the condition's value; three more pass the bound of eight.
        #expect(throws: MalformedPolicy("Invalid policy syntax.")) { try PolicyDocument.parse(Self.policy(around: "1", depth: 4), kind: kind) }
        #expect(throws: MalformedPolicy("Invalid policy syntax.")) { try PolicyDocument.parse(Self.policy(around: "1", depth: 500), kind: kind) }
    }

    @Test func deepestValidPolicy() throws {
        let json = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:username":["a","b"]}}}]}"#
        let parsed = try PolicyDocument.parse(Array(json.utf8), kind: .resource)
        #expect(parsed.statements.count == 1)
    }
}

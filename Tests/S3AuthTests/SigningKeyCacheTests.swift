import Digest
import Testing

@testable import S3Auth

@Suite("SigningKeyCache")
struct SigningKeyCacheTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let secret: String
        let date: String
        let region: String
        let service: String
    }

    static let cases: [Case] = [
        Case(testDescription: "the AWS example scope", secret: Example.secretKey, date: "20130524", region: "us-east-1", service: "s3"),
        Case(testDescription: "another day", secret: Example.secretKey, date: "20130525", region: "us-east-1", service: "s3"),
        Case(testDescription: "another region", secret: Example.secretKey, date: "20130524", region: "eu-west-1", service: "s3"),
        Case(testDescription: "another service", secret: Example.secretKey, date: "20130524", region: "us-east-1", service: "iam"),
        Case(testDescription: "another secret", secret: "other-secret", date: "20130524", region: "us-east-1", service: "s3"),
    ]

    @Test("answers what a fresh derivation gives, the first time and from memory", arguments: cases)
    func matchesDerivation(_ scope: Case) {
        let cache = SigningKeyCache(capacity: 3)
        let derived = SigV4.deriveSigningKey(secretKey: scope.secret, date: scope.date, region: scope.region, service: scope.service)
        for _ in 0..<2 {
            #expect(cache.key(secretKey: scope.secret, date: scope.date, region: scope.region, service: scope.service) == derived)
        }
    }

    @Test("keeps scopes apart, also past its capacity")
    func scopesApart() {
        let cache = SigningKeyCache(capacity: 3)
        for _ in 0..<2 {
            let keys = Self.cases.map { cache.key(secretKey: $0.secret, date: $0.date, region: $0.region, service: $0.service) }
            #expect(Set(keys.map(\.hexString)).count == Self.cases.count)
            #expect(keys[0].hexString == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
        }
    }
}

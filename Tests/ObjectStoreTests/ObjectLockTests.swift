import Foundation
import ObjectStore
import Testing

@Suite("Object lock rules")
struct ObjectLockTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func later(_ seconds: Double) -> Date { now.addingTimeInterval(seconds) }

    static func metadata(_ mode: ObjectLockMode? = nil, until: Date = later(60), hold: Bool? = nil) -> ObjectMetadata {
        var metadata = ObjectMetadata()
        metadata.retention = mode.map { ObjectRetention(mode: $0, retainUntil: until) }
        metadata.legalHold = hold
        return metadata
    }

    @Test("GOVERNANCE gives way to the bypass, COMPLIANCE and legal holds do not, and a passed date frees all")
    func deletionLocks() {
        #expect(!Self.metadata().isLocked(at: Self.now, bypassGovernance: false))
        #expect(Self.metadata(.governance).isLocked(at: Self.now, bypassGovernance: false))
        #expect(!Self.metadata(.governance).isLocked(at: Self.now, bypassGovernance: true))
        #expect(Self.metadata(.compliance).isLocked(at: Self.now, bypassGovernance: true))
        #expect(Self.metadata(hold: true).isLocked(at: Self.now, bypassGovernance: true))
        #expect(!Self.metadata(hold: false).isLocked(at: Self.now, bypassGovernance: false))
        #expect(!Self.metadata(.compliance, until: Self.later(-1)).isLocked(at: Self.now, bypassGovernance: false))
        #expect(Self.metadata(.governance, hold: true).lockReleaseDate(at: Self.now) == nil)
        #expect(Self.metadata(.compliance).lockReleaseDate(at: Self.now) == Self.later(60))
    }

    @Test("a retention may be extended in its mode; anything else needs GOVERNANCE and the bypass, until it passes")
    func retentionChanges() {
        let governance = ObjectRetention(mode: .governance, retainUntil: Self.later(60))
        let compliance = ObjectRetention(mode: .compliance, retainUntil: Self.later(60))
        let longer = Self.later(120), shorter = Self.later(30)
        func may(_ current: ObjectRetention?, _ new: ObjectRetention?, bypass: Bool = false) -> Bool {
            ObjectRetention.mayReplace(current, with: new, at: Self.now, bypassGovernance: bypass)
        }
        #expect(may(nil, compliance))
        #expect(may(governance, .init(mode: .governance, retainUntil: longer)))
        #expect(!may(governance, .init(mode: .governance, retainUntil: shorter)))
        #expect(may(governance, .init(mode: .governance, retainUntil: shorter), bypass: true))
        #expect(!may(governance, .init(mode: .compliance, retainUntil: longer)))
        #expect(may(governance, .init(mode: .compliance, retainUntil: longer), bypass: true))
        #expect(!may(governance, nil))
        #expect(may(governance, nil, bypass: true))
        #expect(may(compliance, .init(mode: .compliance, retainUntil: longer)))
        for bypass in [false, true] {
            #expect(!may(compliance, .init(mode: .compliance, retainUntil: shorter), bypass: bypass))
            #expect(!may(compliance, .init(mode: .governance, retainUntil: longer), bypass: bypass))
            #expect(!may(compliance, nil, bypass: bypass))
        }
        let passed = ObjectRetention(mode: .compliance, retainUntil: Self.later(-1))
        #expect(may(passed, nil))
    }

    @Test("a default retention counts days of 86,400 s and calendar years")
    func defaultRetention() {
        let start = Date(timeIntervalSince1970: 1_709_164_800)  // 2024-02-29T00:00:00Z
        #expect(DefaultRetention(mode: .governance, days: 2).retention(from: start).retainUntil == start.addingTimeInterval(172_800))
        let year = DefaultRetention(mode: .compliance, years: 1).retention(from: start)
        #expect(year.mode == .compliance)
        #expect(year.retainUntil == Date(timeIntervalSince1970: 1_740_700_800))  // 2025-02-28T00:00:00Z
    }

    @Test("lifecycle leaves locked noncurrent versions and looks again when their retention ends")
    func lifecycleSkipsLockedVersions() {
        let rules = LifecycleConfiguration(rules: [
            LifecycleRule(id: "old", enabled: true, filter: LifecycleFilter(form: .single), noncurrentExpiration: .init(noncurrentDays: 1)),
        ])
        func version(_ id: String, age: Double, _ metadata: ObjectMetadata = ObjectMetadata()) -> ObjectRecord {
            ObjectRecord(
                bucket: "b", key: "k", size: 1, etag: "e", lastModified: Self.later(-age), metadata: metadata,
                checksum: nil, segments: [], versionID: id)
        }
        let history = [
            version("current", age: 100),
            version("retained", age: 200, Self.metadata(.governance, until: Self.later(500))),
            version("held", age: 300, Self.metadata(hold: true)),
            version("free", age: 400),
        ]
        let decision = rules.evaluate(history: history, versioned: true, now: Self.now, clock: LifecycleClock(daySeconds: 10))
        #expect(decision.deleteVersions == ["free"])
        #expect(decision.next == Self.later(500))
    }
}

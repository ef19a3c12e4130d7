import Foundation

/// A bucket's lifecycle configuration, as validated from PutBucketLifecycleConfiguration and stored with the
/// bucket. Evaluation is pure, so the PUT/GET path (`x-amz-expiration`) and the lifecycle service agree.
public struct LifecycleConfiguration: Sendable, Codable, Equatable {
    public var rules: [LifecycleRule]

    public init(rules: [LifecycleRule]) {
        self.rules = rules
    }
}

public struct LifecycleRule: Sendable, Codable, Equatable {
    public var id: String
    public var enabled: Bool
    public var filter: LifecycleFilter
    public var expiration: Expiration?
    public var transitions: [Transition]
    public var noncurrentExpiration: NoncurrentExpiration?
    public var noncurrentTransitions: [NoncurrentTransition]
    public var abortIncompleteUploadDays: Int?

    public struct Expiration: Sendable, Codable, Equatable {
        public var days: Int?
        public var date: Date?
        public var expiredObjectDeleteMarker: Bool?
        public init(days: Int? = nil, date: Date? = nil, expiredObjectDeleteMarker: Bool? = nil) {
            self.days = days
            self.date = date
            self.expiredObjectDeleteMarker = expiredObjectDeleteMarker
        }
    }

    public struct Transition: Sendable, Codable, Equatable {
        public var days: Int?
        public var date: Date?
        public var storageClass: String
        public init(days: Int? = nil, date: Date? = nil, storageClass: String) {
            self.days = days
            self.date = date
            self.storageClass = storageClass
        }
    }

    public struct NoncurrentExpiration: Sendable, Codable, Equatable {
        public var noncurrentDays: Int?
        public var newerNoncurrentVersions: Int?
        public init(noncurrentDays: Int? = nil, newerNoncurrentVersions: Int? = nil) {
            self.noncurrentDays = noncurrentDays
            self.newerNoncurrentVersions = newerNoncurrentVersions
        }
    }

    public struct NoncurrentTransition: Sendable, Codable, Equatable {
        public var noncurrentDays: Int
        public var storageClass: String
        public var newerNoncurrentVersions: Int?
        public init(noncurrentDays: Int, storageClass: String, newerNoncurrentVersions: Int? = nil) {
            self.noncurrentDays = noncurrentDays
            self.storageClass = storageClass
            self.newerNoncurrentVersions = newerNoncurrentVersions
        }
    }

    public init(
        id: String, enabled: Bool, filter: LifecycleFilter, expiration: Expiration? = nil, transitions: [Transition] = [],
        noncurrentExpiration: NoncurrentExpiration? = nil, noncurrentTransitions: [NoncurrentTransition] = [],
        abortIncompleteUploadDays: Int? = nil
    ) {
        self.id = id
        self.enabled = enabled
        self.filter = filter
        self.expiration = expiration
        self.transitions = transitions
        self.noncurrentExpiration = noncurrentExpiration
        self.noncurrentTransitions = noncurrentTransitions
        self.abortIncompleteUploadDays = abortIncompleteUploadDays
    }
}

/// Which objects a rule applies to. `form` remembers how the client wrote it, so GET returns the same shape.
public struct LifecycleFilter: Sendable, Codable, Equatable {
    public enum Form: String, Sendable, Codable {
        /// The legacy `<Prefix>` directly in the rule.
        case rulePrefix
        /// `<Filter/>` or `<Filter>` with one condition.
        case single
        /// `<Filter><And>...</And></Filter>`.
        case and
    }

    public var form: Form
    public var prefix: String?
    public var tags: [ObjectTag]
    public var sizeGreaterThan: Int64?
    public var sizeLessThan: Int64?

    public init(form: Form, prefix: String? = nil, tags: [ObjectTag] = [], sizeGreaterThan: Int64? = nil, sizeLessThan: Int64? = nil) {
        self.form = form
        self.prefix = prefix
        self.tags = tags
        self.sizeGreaterThan = sizeGreaterThan
        self.sizeLessThan = sizeLessThan
    }

    /// Whether an object with this key, size and tags is in the rule's scope.
    public func matches(key: String, size: Int64, tags objectTags: [ObjectTag]) -> Bool {
        if let prefix, !key.hasPrefix(prefix) { return false }
        if let sizeGreaterThan, !(size > sizeGreaterThan) { return false }
        if let sizeLessThan, !(size < sizeLessThan) { return false }
        return tags.allSatisfy { objectTags.contains($0) }
    }
}

/// How long a lifecycle day is, and S3's rounding of due times.
public struct LifecycleClock: Sendable, Equatable {
    /// Seconds in a lifecycle day: 86,400, or less to watch rules run in a test.
    public var daySeconds: Int

    public init(daySeconds: Int = 86_400) {
        self.daySeconds = daySeconds
    }

    /// When something `days` lifecycle days after `start` is due. With real days S3 rounds up to the next
    /// midnight UTC; shortened days are not rounded, or a test would wait for midnight.
    public func due(after start: Date, days: Int) -> Date {
        let raw = start.timeIntervalSince1970 + Double(days) * Double(daySeconds)
        guard daySeconds == 86_400 else { return Date(timeIntervalSince1970: raw) }
        return Date(timeIntervalSince1970: (raw / 86_400).rounded(.up) * 86_400)
    }
}

extension LifecycleConfiguration {
    /// The earliest expiration of a current object under the enabled rules, and the rule that sets it:
    /// what `x-amz-expiration` reports.
    public func expiration(of record: ObjectRecord, clock: LifecycleClock) -> (date: Date, ruleID: String)? {
        var best: (date: Date, ruleID: String)?
        for rule in rules where rule.enabled {
            guard let expiration = rule.expiration,
                  rule.filter.matches(key: record.key, size: record.size, tags: record.metadata.tags ?? [])
            else { continue }
            let due: Date? = if let days = expiration.days {
                clock.due(after: record.lastModified, days: days)
            } else {
                expiration.date
            }
            if let due, best.map({ due < $0.date }) ?? true { best = (due, rule.id) }
        }
        return best
    }
}

/// What the rules say to do now with one key's history, and when to look at it again.
public struct LifecycleDecision: Sendable, Equatable {
    /// Expire the current object (in a versioned bucket: put a delete marker on it).
    public var expireCurrent: Bool = false
    /// Versions to delete: noncurrent ones past their days, and an expired lone delete marker.
    public var deleteVersions: [String] = []
    /// Storage classes to record: the version (nil for the current object of an unversioned bucket) and class.
    public var transitions: [Transition] = []

    public struct Transition: Sendable, Equatable {
        public var versionID: String?
        public var storageClass: String
    }
    /// When something else falls due, if anything does.
    public var next: Date?

    public init() {}
}

extension LifecycleConfiguration {
    /// Applies the enabled rules to a key's history, newest first (a bucket never versioned has just the
    /// current object). A version becomes noncurrent when the next newer one was written.
    public func evaluate(history: [ObjectRecord], versioned: Bool, now: Date, clock: LifecycleClock) -> LifecycleDecision {
        var decision = LifecycleDecision()
        func consider(_ due: Date) -> Bool {
            if due <= now { return true }
            decision.next = min(decision.next ?? due, due)
            return false
        }
        guard let latest = history.first else { return decision }
        for rule in rules where rule.enabled {
            let matches = { (record: ObjectRecord) in
                rule.filter.matches(key: record.key, size: record.size, tags: record.metadata.tags ?? [])
            }
            if let expiration = rule.expiration {
                if !latest.isDeleteMarker, matches(latest) {
                    if let days = expiration.days, consider(clock.due(after: latest.lastModified, days: days)) {
                        decision.expireCurrent = true
                    }
                    if let date = expiration.date, consider(date) { decision.expireCurrent = true }
                }
                if expiration.expiredObjectDeleteMarker == true, latest.isDeleteMarker, history.count == 1,
                   rule.filter.matches(key: latest.key, size: 0, tags: []) {
                    decision.deleteVersions.append(latest.versionName)
                }
            }
            if !latest.isDeleteMarker, matches(latest) {
                // The furthest transition already due wins; a later one is the next due time.
                let due = rule.transitions.compactMap { transition -> (Date, String)? in
                    guard let when = transition.days.map({ clock.due(after: latest.lastModified, days: $0) }) ?? transition.date else { return nil }
                    return consider(when) ? (when, transition.storageClass) : nil
                }.max { $0.0 < $1.0 }
                if let (_, storageClass) = due, latest.metadata.storageClass != storageClass {
                    decision.transitions.append(.init(versionID: latest.versionID, storageClass: storageClass))
                }
            }
            if versioned, !rule.noncurrentTransitions.isEmpty {
                for index in history.indices.dropFirst() where !history[index].isDeleteMarker && matches(history[index]) {
                    let version = history[index]
                    let since = history[index - 1].lastModified
                    let due = rule.noncurrentTransitions.compactMap { transition -> (Date, String)? in
                        if let keep = transition.newerNoncurrentVersions, index - 1 < keep { return nil }
                        let when = clock.due(after: since, days: transition.noncurrentDays)
                        return consider(when) ? (when, transition.storageClass) : nil
                    }.max { $0.0 < $1.0 }
                    if let (_, storageClass) = due, version.metadata.storageClass != storageClass {
                        decision.transitions.append(.init(versionID: version.versionID, storageClass: storageClass))
                    }
                }
            }
            if versioned, let noncurrent = rule.noncurrentExpiration {
                for index in history.indices.dropFirst() {
                    let version = history[index]
                    guard version.isDeleteMarker ? rule.filter.matches(key: version.key, size: 0, tags: []) : matches(version)
                    else { continue }
                    // Versions newer than this one that are themselves noncurrent.
                    if let keep = noncurrent.newerNoncurrentVersions, index - 1 < keep { continue }
                    let since = history[index - 1].lastModified
                    let due = noncurrent.noncurrentDays.map { clock.due(after: since, days: $0) } ?? since
                    guard consider(due), !decision.deleteVersions.contains(version.versionName) else { continue }
                    if version.metadata.isLocked(at: now, bypassGovernance: false) {
                        // Object lock outranks lifecycle. Look again when the retention ends; releasing a legal
                        // hold is a write, which queues the key by itself.
                        if let release = version.metadata.lockReleaseDate(at: now) { decision.next = min(decision.next ?? release, release) }
                    } else {
                        decision.deleteVersions.append(version.versionName)
                    }
                }
            }
        }
        return decision
    }

    /// Rules that abort incomplete multipart uploads, with their days.
    public var abortRules: [(filter: LifecycleFilter, days: Int)] {
        rules.compactMap { rule in
            guard rule.enabled, let days = rule.abortIncompleteUploadDays else { return nil }
            return (rule.filter, days)
        }
    }
}

import Foundation

/// S3 Object Lock's retention modes. GOVERNANCE gives way to `x-amz-bypass-governance-retention`;
/// COMPLIANCE gives way to nothing until its date has passed.
public enum ObjectLockMode: String, Sendable, Codable, Equatable {
    case governance = "GOVERNANCE"
    case compliance = "COMPLIANCE"
}

/// A version's retention: it may not be deleted or overwritten before `retainUntil`.
public struct ObjectRetention: Sendable, Codable, Equatable {
    public var mode: ObjectLockMode
    public var retainUntil: Date

    public init(mode: ObjectLockMode, retainUntil: Date) {
        self.mode = mode
        self.retainUntil = retainUntil
    }

    public func isActive(at now: Date) -> Bool { retainUntil > now }
}

/// A bucket's default retention, given to new versions that do not name their own.
public struct DefaultRetention: Sendable, Codable, Equatable {
    public var mode: ObjectLockMode
    /// Exactly one of `days` and `years` is set.
    public var days: Int?
    public var years: Int?

    public init(mode: ObjectLockMode, days: Int? = nil, years: Int? = nil) {
        self.mode = mode
        self.days = days
        self.years = years
    }

    /// The retention of a version created at `created`.
    public func retention(from created: Date) -> ObjectRetention {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let until = if let years {
            calendar.date(byAdding: .year, value: years, to: created) ?? created
        } else {
            created.addingTimeInterval(Double(days ?? 0) * 86_400)
        }
        return ObjectRetention(mode: mode, retainUntil: until)
    }
}

/// The object lock settings of a bucket that has object lock enabled; a bucket without has none.
public struct ObjectLockConfiguration: Sendable, Codable, Equatable {
    public var defaultRetention: DefaultRetention?

    public init(defaultRetention: DefaultRetention? = nil) {
        self.defaultRetention = defaultRetention
    }
}

extension ObjectMetadata {
    /// Whether object lock forbids deleting or overwriting this version at `now`. A legal hold always does;
    /// a retention does until its date, GOVERNANCE only without `bypassGovernance`.
    public func isLocked(at now: Date, bypassGovernance: Bool) -> Bool {
        if legalHold == true { return true }
        guard let retention, retention.isActive(at: now) else { return false }
        return retention.mode == .compliance || !bypassGovernance
    }

    /// When a retention stops protecting the version, if one protects it now and no legal hold does (a legal
    /// hold has no date: a change to it is a write that brings the version up again).
    public func lockReleaseDate(at now: Date) -> Date? {
        guard legalHold != true, let retention, retention.isActive(at: now) else { return nil }
        return retention.retainUntil
    }
}

extension ObjectRetention {
    /// Whether a version retained by `current` may be given `new` (nil removes the retention) at `now`.
    /// Extending the date in the same mode is always allowed. While COMPLIANCE holds, nothing else is; while
    /// GOVERNANCE holds, anything else needs the bypass.
    public static func mayReplace(_ current: ObjectRetention?, with new: ObjectRetention?, at now: Date, bypassGovernance: Bool) -> Bool {
        guard let current, current.isActive(at: now) else { return true }
        if let new, new.mode == current.mode, new.retainUntil >= current.retainUntil { return true }
        return current.mode == .governance && bypassGovernance
    }
}

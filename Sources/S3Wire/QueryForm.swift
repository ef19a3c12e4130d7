/// The body of an AWS query API request (IAM, STS): `application/x-www-form-urlencoded` pairs such as
/// `Action=PutUserPolicy&UserName=alice&PolicyDocument=%7B...`. Pure, so that it is fuzzed on its own (query-forms).
public enum QueryForm {
    /// Names to values; a later value of a name replaces an earlier one, a pair whose name does not decode is
    /// skipped, and a value that does not decode is empty.
    public static func parse(_ body: [UInt8]) -> [String: String] {
        var form: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Percent.decode(halves[0], plusIsSpace: true) else { continue }
            form[name] = halves.count > 1 ? (Percent.decode(halves[1], plusIsSpace: true) ?? "") : ""
        }
        return form
    }
}

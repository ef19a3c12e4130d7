/// IAM's wildcard matching: `*` matches any run of characters (`/` and `:` included), `?` exactly one.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
enum Wildcard {
    /// Whether `text` matches `pattern`, comparing Unicode scalars (or ASCII-case-insensitively).
    static func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        let p = Array(ignoringCase ? pattern.lowercased().unicodeScalars : pattern.unicodeScalars)
        let t = Array(ignoringCase ? text.lowercased().unicodeScalars : text.unicodeScalars)
        // Greedy matching with one backtrack point: linear for patterns without `*`, O(n·m) at worst.
        var (pi, ti) = (0, 0)
        var star: (pattern: Int, text: Int)? = nil
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = (pi, ti)
                pi += 1
            } else if let last = star {
                pi = last.pattern + 1
                ti = last.text + 1
                star = (last.pattern, last.text + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

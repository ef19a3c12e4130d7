import S3Auth
import S3Wire

extension FuzzTarget {
    /// An IAM or STS query form body (`Action=...&UserName=...&PolicyDocument=...`): the form parse, and the policy
    /// document an IAM user would be given (PutUserPolicy), which is read before any identity is touched. The form
    /// written back as a client would send it must parse to the same names and values.
    static func queryForms(_ data: [UInt8]) {
        let form = QueryForm.parse(data)
        if let document = form["PolicyDocument"] {
            _ = try? PolicyDocument.parse(Array(document.utf8), kind: .identity)
        }
        let written = form.sorted { $0.key < $1.key }.map { Percent.encode($0.key) + "=" + Percent.encode($0.value) }
        guard QueryForm.parse(Array(written.joined(separator: "&").utf8)) == form else {
            fatalError("query-forms: the form written back parses to other names or values")
        }
    }
}

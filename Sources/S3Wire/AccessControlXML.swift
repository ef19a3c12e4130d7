import Foundation
import ObjectStore

/// A grantee as a request names it: email addresses are resolved to accounts by the handler.
public enum RequestedGrantee: Sendable, Equatable {
    case canonicalUser(String)
    case group(String)
    case email(String)
}

/// A grant as a request names it.
public struct RequestedGrant: Sendable, Equatable {
    public var grantee: RequestedGrantee
    public var permission: ACLPermission

    public init(_ grantee: RequestedGrantee, _ permission: ACLPermission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// Canned ACLs, `x-amz-grant-*` headers and the AccessControlPolicy document.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
public enum AccessControlXML {
    public enum CannedACL: String, Sendable, CaseIterable {
        case `private` = "private", publicRead = "public-read", publicReadWrite = "public-read-write"
        case authenticatedRead = "authenticated-read", bucketOwnerRead = "bucket-owner-read"
        case bucketOwnerFullControl = "bucket-owner-full-control", logDeliveryWrite = "log-delivery-write"
        case awsExecRead = "aws-exec-read"
    }

    /// The grants a canned ACL gives besides the owner's full control. `bucketOwner` is the bucket owner's
    /// canonical id (for the bucket-owner-* ACLs on objects).
    public static func grants(_ canned: CannedACL, bucketOwner: String?) -> [RequestedGrant] {
        switch canned {
        case .private, .awsExecRead: []
        case .publicRead: [RequestedGrant(.group(ACLGrantee.allUsers), .read)]
        case .publicReadWrite: [RequestedGrant(.group(ACLGrantee.allUsers), .read), RequestedGrant(.group(ACLGrantee.allUsers), .write)]
        case .authenticatedRead: [RequestedGrant(.group(ACLGrantee.authenticatedUsers), .read)]
        case .bucketOwnerRead: bucketOwner.map { [RequestedGrant(.canonicalUser($0), .read)] } ?? []
        case .bucketOwnerFullControl: bucketOwner.map { [RequestedGrant(.canonicalUser($0), .fullControl)] } ?? []
        case .logDeliveryWrite:
            [RequestedGrant(.group(ACLGrantee.logDelivery), .write), RequestedGrant(.group(ACLGrantee.logDelivery), .readACP)]
        }
    }

    static let grantHeaders: [(String, ACLPermission)] = [
        ("x-amz-grant-read", .read), ("x-amz-grant-write", .write), ("x-amz-grant-read-acp", .readACP),
        ("x-amz-grant-write-acp", .writeACP), ("x-amz-grant-full-control", .fullControl),
    ]

    /// What a request's ACL headers ask for: a canned ACL, explicit grants, or nothing (nil).
    public enum HeaderACL: Sendable, Equatable {
        case canned(CannedACL)
        case grants([RequestedGrant])
    }

    /// Reads `x-amz-acl` and the `x-amz-grant-*` headers (`header` looks one up by lower-case name).
    public static func fromHeaders(_ header: (String) -> String?) throws(S3Error) -> HeaderACL? {
        var grants: [RequestedGrant] = []
        for (name, permission) in grantHeaders {
            guard let value = header(name) else { continue }
            for grantee in try parseGrantees(value) { grants.append(RequestedGrant(grantee, permission)) }
        }
        guard let cannedName = header("x-amz-acl") else { return grants.isEmpty ? nil : .grants(grants) }
        guard grants.isEmpty else {
            throw S3Error(.invalidRequest, "Specifying both Canned ACLs and Header Grants is not allowed")
        }
        guard let canned = CannedACL(rawValue: cannedName.trimmingCharacters(in: .whitespaces)) else {
            throw S3Error(.invalidArgument, details: [("ArgumentName", "x-amz-acl"), ("ArgumentValue", cannedName)])
        }
        return .canned(canned)
    }

    /// `id="...", uri="...", emailAddress="..."`.
    static func parseGrantees(_ value: String) throws(S3Error) -> [RequestedGrantee] {
        var result: [RequestedGrantee] = []
        for item in value.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw S3Error(.invalidArgument, "Invalid grant header: \(value)") }
            let text = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2
                ? String(pair[1].dropFirst().dropLast()) : pair[1]
            switch pair[0].lowercased() {
            case "id": result.append(.canonicalUser(text))
            case "uri": result.append(.group(text))
            case "emailaddress": result.append(.email(text))
            default: throw S3Error(.invalidArgument, "Invalid grant header: \(value)")
            }
        }
        return result
    }

    /// An AccessControlPolicy document: the owner's canonical id as given and the grants.
    public static func parse(_ document: [UInt8]) throws(S3Error) -> (owner: String?, grants: [RequestedGrant]) {
        let root = try XMLReader.parse(document, limits: XMLLimits(maxElements: 100 * 8 + 8))
        guard root.name == "AccessControlPolicy", let list = root.child("AccessControlList") else { throw S3Error(.malformedACLError) }
        let owner = root.child("Owner")?.child("ID")?.text.trimmingCharacters(in: .whitespacesAndNewlines)
        var grants: [RequestedGrant] = []
        for grant in list.children("Grant") {
            guard let grantee = grant.child("Grantee"),
                  let permission = grant.child("Permission").flatMap({ ACLPermission(rawValue: $0.text.trimmingCharacters(in: .whitespaces)) })
            else { throw S3Error(.malformedACLError) }
            if let id = grantee.child("ID") {
                grants.append(RequestedGrant(.canonicalUser(id.text.trimmingCharacters(in: .whitespacesAndNewlines)), permission))
            } else if let uri = grantee.child("URI") {
                grants.append(RequestedGrant(.group(uri.text.trimmingCharacters(in: .whitespacesAndNewlines)), permission))
            } else if let email = grantee.child("EmailAddress") {
                grants.append(RequestedGrant(.email(email.text.trimmingCharacters(in: .whitespacesAndNewlines)), permission))
            } else {
                throw S3Error(.malformedACLError)
            }
        }
        guard grants.count <= 100 else { throw S3Error(.malformedACLError, "An ACL holds at most 100 grants.") }
        return (owner, grants)
    }

    /// Writes an AccessControlPolicy. `name` gives a canonical id's display name.
    public static func write(owner: (id: String, displayName: String), grants: [ACLGrant], name: (String) -> String?) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("AccessControlPolicy", namespace: XMLWriter.s3Namespace) { x in
            x.element("Owner") { o in
                o.element("ID", owner.id)
                o.element("DisplayName", owner.displayName)
            }
            x.element("AccessControlList") { list in
                // Group grants first, as RGW lists them (order carries no meaning in an ACL).
                let ordered = grants.filter { if case .group = $0.grantee { true } else { false } }
                    + grants.filter { if case .canonicalUser = $0.grantee { true } else { false } }
                for grant in ordered {
                    list.element("Grant") { g in
                        switch grant.grantee {
                        case .canonicalUser(let id):
                            g.element("Grantee", attributes: [("xmlns:xsi", xsi), ("xsi:type", "CanonicalUser")]) { e in
                                e.element("ID", id)
                                if let display = name(id) { e.element("DisplayName", display) }
                            }
                        case .group(let uri):
                            g.element("Grantee", attributes: [("xmlns:xsi", xsi), ("xsi:type", "Group")]) { e in
                                e.element("URI", uri)
                            }
                        }
                        g.element("Permission", grant.permission.rawValue)
                    }
                }
            }
        }
        return xml
    }

    static let xsi = "http://www.w3.org/2001/XMLSchema-instance"

    /// Known group URIs; anything else is refused as AWS does.
    public static let groups: Set<String> = [ACLGrantee.allUsers, ACLGrantee.authenticatedUsers, ACLGrantee.logDelivery]
}

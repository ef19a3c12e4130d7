import Foundation
import HTTPTypes
import HummingbirdCore
import ObjectStore
import S3Auth
import S3Wire

/// ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.
extension S3Handlers {
    /// ListBuckets, paged by `max-buckets` and `continuation-token` and narrowed by `prefix` and `bucket-region`.
    /// Buckets are few (AWS allows at most 10,000 an account), so the page is cut from the whole sorted list.
    func listBuckets(_ context: RequestContext) async throws -> S3Response {
        let q = context.query
        let prefix = q["prefix"] ?? ""
        let region = q["bucket-region"].flatMap { $0.isEmpty ? nil : $0 }
        var limit = Int.max
        if let text = q["max-buckets"] {
            guard let value = Int(text), (1...10_000).contains(value) else {
                throw S3Error(.invalidArgument, "Argument max-buckets must be an integer between 1 and 10000",
                              details: [("ArgumentName", "max-buckets"), ("ArgumentValue", text)])
            }
            limit = value
        }
        var after: String?
        if let token = q["continuation-token"], !token.isEmpty {
            guard let decoded = ContinuationToken.decode(token) else {
                throw S3Error(.invalidArgument, "The continuation token provided is incorrect",
                              details: [("ArgumentName", "continuation-token")])
            }
            after = decoded
        }
        let account = context.auth.caller.account?.id
        let owner = self.owner(ofAccount: account)
        let matching = try await storage.index.listBuckets()
            .filter { $0.owner == account && $0.name.hasPrefix(prefix) && (region == nil || $0.region == region) }
            .sorted { $0.name < $1.name }
            .filter { after == nil || $0.name > after! }
        let buckets = matching.prefix(limit)
        let next = matching.count > buckets.count ? buckets.last.map { ContinuationToken.encode($0.name) } : nil
        var xml = XMLWriter()
        xml.element("ListAllMyBucketsResult", namespace: XMLWriter.s3Namespace) { x in
            x.element("Owner") { o in
                o.element("ID", owner.id)
                o.element("DisplayName", owner.displayName)
            }
            x.element("Buckets") { b in
                for bucket in buckets {
                    b.element("Bucket") { e in
                        e.element("Name", bucket.name)
                        e.element("CreationDate", HTTPDate.iso8601(bucket.creationDate))
                        e.element("BucketRegion", bucket.region)
                    }
                }
            }
            if let next { x.element("ContinuationToken", next) }
            if q["prefix"] != nil { x.element("Prefix", prefix) }
        }
        return .xml(xml)
    }

    func createBucket(_ name: String, _ context: RequestContext, body: RequestBody) async throws -> S3Response {
        try BucketName.validate(name)
        let objectLock = context.header("x-amz-bucket-object-lock-enabled")?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
        let document = try await body.collectDocument(progress: context.bodyProgress)
        if !document.isEmpty {
            let root = try XMLReader.parse(document)
            guard root.name == "CreateBucketConfiguration" else { throw S3Error(.malformedXML) }
            let constraint = root.child("LocationConstraint")?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            // us-east-1 is the one region whose buckets carry no location constraint.
            let expected = configuration.region == "us-east-1" ? "" : configuration.region
            if constraint != expected {
                throw S3Error(
                    .invalidLocationConstraint,
                    "The \(constraint.isEmpty ? "unspecified" : "specified") location-constraint is not valid for this endpoint, which serves \(configuration.region).",
                    details: [("LocationConstraint", constraint)])
            }
        }
        guard let account = context.auth.caller.account else { throw S3Error(.accessDenied) }
        let (ownership, acl) = try newBucketACL(account: account, context)
        do {
            // Object lock needs every write to keep a version, so it comes with versioning on.
            try await storage.index.createBucket(BucketInfo(
                name: name, creationDate: Date(), region: configuration.region,
                versioning: objectLock ? .enabled : nil, objectLock: objectLock ? ObjectLockConfiguration() : nil,
                owner: account.id, acl: acl, ownership: ownership, publicAccessBlock: configuration.bucketDefaults.publicAccessBlock))
            authorizer.invalidate(bucket: name)
        } catch StoreError.bucketAlreadyExists {
            // Bucket names are global: another account's bucket of the same name is a conflict.
            if try await storage.index.bucket(named: name)?.owner != account.id {
                throw S3Error(.bucketAlreadyExists, details: [("BucketName", name)])
            }
            // AWS answers a re-create by the owner in us-east-1 with 200 for legacy reasons, elsewhere with 409.
            guard configuration.region == "us-east-1" else {
                throw S3Error(.bucketAlreadyOwnedByYou, details: [("BucketName", name)])
            }
            // ... and resets the bucket's ACL to the one the request gives (CreateBucket's API reference).
            if let existing = try await storage.index.bucket(named: name), existing.ownership != .bucketOwnerEnforced {
                try await storage.index.setBucketACL(acl, bucket: name)
                authorizer.invalidate(bucket: name)
            }
        }
        var headers = HTTPFields()
        headers[.location] = "/" + name
        return .empty(.ok, headers: headers)
    }

    /// A new bucket's Object Ownership (`x-amz-object-ownership`, else the server's default) and ACL (from the
    /// ACL headers, refused where ACLs are disabled or Block Public Access forbids a public one).
    private func newBucketACL(account: AccountIdentity, _ context: RequestContext) throws -> (ObjectOwnership, AccessControlList?) {
        var ownership = configuration.bucketDefaults.ownership
        if let text = context.header("x-amz-object-ownership") {
            guard let given = ObjectOwnership(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw S3Error(.invalidArgument, "Invalid x-amz-object-ownership header: \(text)",
                              details: [("ArgumentName", "x-amz-object-ownership"), ("ArgumentValue", text)])
            }
            ownership = given
        }
        guard let requested = try AccessControlXML.fromHeaders({ context.header($0) }) else { return (ownership, nil) }
        if ownership == .bucketOwnerEnforced {
            guard requested == .canned(.private) || Self.isOwnerFullControlOnly(requested, bucketOwner: account.canonicalID) else {
                throw S3Error(.invalidBucketAclWithObjectOwnership)
            }
            return (ownership, nil)
        }
        let acl = try resolve(requested, owner: account.id, bucketOwnerCanonical: account.canonicalID)
        if acl.isPublic, configuration.bucketDefaults.publicAccessBlock?.blockPublicAcls == true {
            throw S3Error(.invalidBucketAclWithBlockPublicAccessError)
        }
        return (ownership, acl)
    }

    func deleteBucket(_ name: String) async throws -> S3Response {
        do {
            try await storage.deleteBucket(named: name)
            authorizer.invalidate(bucket: name)
            // A bucket made again under this name must not inherit the old one's rules.
            lifecycles.forget(name)
        } catch let error as StoreError {
            throw S3Error.from(error, bucket: name, key: nil)
        }
        return .empty(.noContent)
    }

    func headBucket(_ name: String) async throws -> S3Response {
        let bucket = try await requireBucket(name)
        var headers = HTTPFields()
        headers[.amzBucketRegion] = bucket.region
        return .empty(.ok, headers: headers)
    }

    func getBucketLocation(_ name: String) async throws -> S3Response {
        let bucket = try await requireBucket(name)
        var xml = XMLWriter()
        // us-east-1 is reported as an empty constraint.
        xml.element("LocationConstraint", namespace: XMLWriter.s3Namespace) { x in
            if bucket.region != "us-east-1" { x.characters(bucket.region) }
        }
        return .xml(xml)
    }
}

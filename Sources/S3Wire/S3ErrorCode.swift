import HTTPTypes

/// The S3 error codes this server answers with, each with its HTTP status and AWS's default message.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
public enum S3ErrorCode: String, Sendable, CaseIterable {
    case accessDenied = "AccessDenied"
    case accessControlListNotSupported = "AccessControlListNotSupported"
    case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
    case authorizationQueryParametersError = "AuthorizationQueryParametersError"
    case badDigest = "BadDigest"
    case badRequest = "BadRequest"
    case bucketAlreadyExists = "BucketAlreadyExists"
    case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
    case bucketNotEmpty = "BucketNotEmpty"
    case deleteConflict = "DeleteConflict"
    case entityAlreadyExists = "EntityAlreadyExists"
    case entityTooLarge = "EntityTooLarge"
    case entityTooSmall = "EntityTooSmall"
    case incompleteBody = "IncompleteBody"
    case internalError = "InternalError"
    case invalidAccessKeyId = "InvalidAccessKeyId"
    case invalidArgument = "InvalidArgument"
    case invalidBucketAclWithObjectOwnership = "InvalidBucketAclWithObjectOwnership"
    case invalidBucketName = "InvalidBucketName"
    case invalidBucketState = "InvalidBucketState"
    case invalidChunkSizeError = "InvalidChunkSizeError"
    case invalidDigest = "InvalidDigest"
    case invalidPart = "InvalidPart"
    case invalidPartNumber = "InvalidPartNumber"
    case invalidPartOrder = "InvalidPartOrder"
    case invalidLocationConstraint = "InvalidLocationConstraint"
    case invalidRange = "InvalidRange"
    case invalidRequest = "InvalidRequest"
    case invalidRetentionPeriod = "InvalidRetentionPeriod"
    case invalidStorageClass = "InvalidStorageClass"
    case invalidTag = "InvalidTag"
    case keyTooLongError = "KeyTooLongError"
    case malformedACLError = "MalformedACLError"
    case unexpectedContent = "UnexpectedContent"
    case invalidBucketAclWithBlockPublicAccessError = "InvalidBucketAclWithBlockPublicAccessError"
    case malformedPolicy = "MalformedPolicy"
    case malformedTrailerError = "MalformedTrailerError"
    case malformedXML = "MalformedXML"
    case metadataTooLarge = "MetadataTooLarge"
    case methodNotAllowed = "MethodNotAllowed"
    case missingContentLength = "MissingContentLength"
    case missingSecurityHeader = "MissingSecurityHeader"
    case limitExceeded = "LimitExceeded"
    case noSuchEntity = "NoSuchEntity"
    case noSuchPublicAccessBlockConfiguration = "NoSuchPublicAccessBlockConfiguration"
    case ownershipControlsNotFoundError = "OwnershipControlsNotFoundError"
    case unresolvableGrantByEmailAddress = "UnresolvableGrantByEmailAddress"
    case noSuchCORSConfiguration = "NoSuchCORSConfiguration"
    case noSuchWebsiteConfiguration = "NoSuchWebsiteConfiguration"
    case accessForbidden = "AccessForbidden"
    case noSuchBucket = "NoSuchBucket"
    case noSuchBucketPolicy = "NoSuchBucketPolicy"
    case noSuchKey = "NoSuchKey"
    case noSuchUpload = "NoSuchUpload"
    case noSuchVersion = "NoSuchVersion"
    case noSuchTagSet = "NoSuchTagSet"
    case noSuchLifecycleConfiguration = "NoSuchLifecycleConfiguration"
    case noSuchObjectLockConfiguration = "NoSuchObjectLockConfiguration"
    case objectLockConfigurationNotFoundError = "ObjectLockConfigurationNotFoundError"
    case notImplemented = "NotImplemented"
    case preconditionFailed = "PreconditionFailed"
    case requestTimeTooSkewed = "RequestTimeTooSkewed"
    case requestTimeout = "RequestTimeout"
    case serviceUnavailable = "ServiceUnavailable"
    case slowDown = "SlowDown"
    case signatureDoesNotMatch = "SignatureDoesNotMatch"
    case xAmzContentSHA256Mismatch = "XAmzContentSHA256Mismatch"
    case malformedPOSTRequest = "MalformedPOSTRequest"
    case maxPostPreDataLengthExceededError = "MaxPostPreDataLengthExceededError"
    case incorrectNumberOfFilesInPostRequest = "IncorrectNumberOfFilesInPostRequest"
    case invalidPolicyDocument = "InvalidPolicyDocument"
    case serverSideEncryptionConfigurationNotFoundError = "ServerSideEncryptionConfigurationNotFoundError"
    case kmsNotFound = "KMS.NotFoundException"
    case invalidEncryptionAlgorithmError = "InvalidEncryptionAlgorithmError"
    case kmsDisabled = "KMS.DisabledException"

    public var status: HTTPResponse.Status {
        switch self {
        case .accessDenied, .accessForbidden, .invalidAccessKeyId, .requestTimeTooSkewed, .signatureDoesNotMatch: .forbidden
        case .noSuchEntity, .noSuchCORSConfiguration, .noSuchWebsiteConfiguration, .noSuchPublicAccessBlockConfiguration, .ownershipControlsNotFoundError, .noSuchBucket, .noSuchBucketPolicy, .noSuchKey, .noSuchUpload, .noSuchVersion, .noSuchTagSet, .noSuchLifecycleConfiguration,
             .noSuchObjectLockConfiguration, .objectLockConfigurationNotFoundError, .serverSideEncryptionConfigurationNotFoundError:
            .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty, .invalidBucketState, .deleteConflict,
             .entityAlreadyExists, .limitExceeded: .conflict
        case .missingContentLength: .lengthRequired
        case .preconditionFailed: .preconditionFailed
        case .invalidRange, .invalidPartNumber: .rangeNotSatisfiable
        case .internalError: .internalServerError
        case .notImplemented: .notImplemented
        case .serviceUnavailable, .slowDown: .serviceUnavailable
        case .authorizationHeaderMalformed, .authorizationQueryParametersError, .badDigest, .entityTooLarge,
             .entityTooSmall, .incompleteBody, .invalidArgument, .invalidBucketName, .invalidChunkSizeError,
             .badRequest, .invalidTag, .invalidDigest, .invalidPart, .invalidPartOrder, .invalidLocationConstraint, .invalidRequest, .invalidRetentionPeriod, .invalidStorageClass, .keyTooLongError,
             .malformedPolicy, .malformedACLError, .accessControlListNotSupported, .invalidBucketAclWithObjectOwnership,
             .unresolvableGrantByEmailAddress, .unexpectedContent, .invalidBucketAclWithBlockPublicAccessError, .malformedTrailerError, .malformedXML, .metadataTooLarge, .missingSecurityHeader, .requestTimeout,
             .xAmzContentSHA256Mismatch, .malformedPOSTRequest, .maxPostPreDataLengthExceededError,
             .incorrectNumberOfFilesInPostRequest, .invalidPolicyDocument, .kmsNotFound, .kmsDisabled, .invalidEncryptionAlgorithmError:
            .badRequest
        }
    }

    public var defaultMessage: String {
        switch self {
        case .accessDenied: "Access Denied"
        case .authorizationHeaderMalformed: "The authorization header is malformed."
        case .authorizationQueryParametersError: "Error parsing the X-Amz-Credential parameter."
        case .badDigest: "The Content-MD5 you specified did not match what we received."
        case .badRequest: "Bad Request"
        case .invalidTag: "The tag provided was not a valid tag."
        case .noSuchTagSet: "The TagSet does not exist"
        case .noSuchLifecycleConfiguration: "The lifecycle configuration does not exist"
        case .noSuchObjectLockConfiguration: "The specified object does not have a ObjectLock configuration"
        case .objectLockConfigurationNotFoundError: "Object Lock configuration does not exist for this bucket"
        case .bucketAlreadyExists:
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
        case .bucketAlreadyOwnedByYou: "Your previous request to create the named bucket succeeded and you already own it."
        case .bucketNotEmpty: "The bucket you tried to delete is not empty"
        case .entityTooLarge: "Your proposed upload exceeds the maximum allowed size"
        case .entityTooSmall: "Your proposed upload is smaller than the minimum allowed object size."
        case .incompleteBody: "You did not provide the number of bytes specified by the Content-Length HTTP header."
        case .internalError: "We encountered an internal error. Please try again."
        case .serverSideEncryptionConfigurationNotFoundError: "The server side encryption configuration was not found"
        case .kmsNotFound: "Invalid keyId"
        case .invalidEncryptionAlgorithmError: "The encryption request you specified is not valid. The valid value is AES256."
        case .kmsDisabled: "The KMS key is disabled."
        case .invalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records."
        case .invalidArgument: "Invalid Argument"
        case .invalidBucketName: "The specified bucket is not valid."
        case .invalidBucketState: "The request is not valid with the current state of the bucket."
        case .invalidChunkSizeError: "Only the last chunk is allowed to have a size less than 8192 bytes"
        case .invalidDigest: "The Content-MD5 you specified was invalid."
        case .invalidLocationConstraint: "The specified location-constraint is not valid"
        case .invalidPart:
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        case .invalidPartNumber: "The requested partnumber is not satisfiable"
        case .invalidPartOrder: "The list of parts was not in ascending order. Parts must be ordered by part number."
        case .invalidRange: "The requested range is not satisfiable"
        case .invalidRequest: "Invalid Request"
        case .invalidRetentionPeriod: "The retention period must be no more than 100 years (36500 days)."
        case .invalidStorageClass: "The storage class you specified is not valid"
        case .keyTooLongError: "Your key is too long"
        case .malformedPolicy: "Policies must be valid JSON and the first byte must be '{'"
        case .malformedTrailerError: "The request contained trailing data that was not well-formed or did not conform to our published schema."
        case .malformedXML: "The XML you provided was not well-formed or did not validate against our published schema"
        case .metadataTooLarge: "Your metadata headers exceed the maximum allowed metadata size."
        case .methodNotAllowed: "The specified method is not allowed against this resource."
        case .missingContentLength: "You must provide the Content-Length HTTP header."
        case .missingSecurityHeader: "Your request was missing a required header"
        case .noSuchBucket: "The specified bucket does not exist"
        case .noSuchCORSConfiguration: "The CORS configuration does not exist"
        case .noSuchWebsiteConfiguration: "The specified bucket does not have a website configuration"
        case .accessForbidden: "CORSResponse: This CORS request is not allowed."
        case .noSuchPublicAccessBlockConfiguration: "The public access block configuration was not found"
        case .ownershipControlsNotFoundError: "The bucket ownership controls were not found"
        case .unresolvableGrantByEmailAddress: "The e-mail address you provided does not match any account on record."
        case .malformedACLError: "The XML you provided was not well-formed or did not validate against our published schema"
        case .accessControlListNotSupported: "The bucket does not allow ACLs"
        case .unexpectedContent: "This request does not support content"
        case .invalidBucketAclWithBlockPublicAccessError: "Bucket cannot have public ACLs set with BlockPublicAccess enabled"
        case .invalidBucketAclWithObjectOwnership: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        case .noSuchEntity: "The specified entity cannot be found."
        case .entityAlreadyExists: "The specified entity already exists."
        case .deleteConflict: "The entity cannot be deleted while other resources depend on it."
        case .limitExceeded: "The request exceeds a limit."
        case .noSuchBucketPolicy: "The bucket policy does not exist"
        case .noSuchKey: "The specified key does not exist."
        case .noSuchVersion: "The specified version does not exist."
        case .noSuchUpload:
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        case .notImplemented: "A header you provided implies functionality that is not implemented"
        case .preconditionFailed: "At least one of the pre-conditions you specified did not hold"
        case .requestTimeTooSkewed: "The difference between the request time and the current time is too large."
        case .requestTimeout: "Your socket connection to the server was not read from or written to within the timeout period."
        case .serviceUnavailable: "Service is unable to handle request."
        case .slowDown: "Please reduce your request rate."
        case .signatureDoesNotMatch:
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        case .xAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed."
        case .malformedPOSTRequest: "The body of your POST request is not well-formed multipart/form-data."
        case .maxPostPreDataLengthExceededError: "Your POST request fields preceding the upload file were too large."
        case .incorrectNumberOfFilesInPostRequest: "POST requires exactly one file upload per request."
        case .invalidPolicyDocument: "The content of the form does not meet the conditions specified in the policy document."
        }
    }
}

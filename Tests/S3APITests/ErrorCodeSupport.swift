@testable import S3API
@testable import S3Wire

/// The S3 error code `body` throws; nil if it returns, or throws something that is not an ``S3Error``.
func s3ErrorCode<T>(_ body: () throws -> T) -> S3ErrorCode? {
    do {
        _ = try body()
        return nil
    } catch let error as S3Error {
        return error.code
    } catch {
        return nil
    }
}

/// Why a request body ended before its end: each is the client's doing, answered with a 4xx.
public enum BodyStreamError: Error, Equatable {
    /// Nothing arrived for the body-stall timeout while the server waited for it.
    case stalled
    /// The connection ended (or the client half-closed it) before the body did.
    case truncated
    /// The chunked transfer coding is broken: a bad chunk size, a missing CRLF.
    case malformedFraming
}

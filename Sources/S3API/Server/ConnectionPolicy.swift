/// How long a connection may take over each phase of a request, and how many may be open at once. The
/// defaults keep a slow or idle client from holding a socket for long while leaving real clients on slow
/// links plenty of room.
public struct ConnectionPolicy: Sendable, Equatable {
    /// From a request head's first byte to its last (what a trickled "slowloris" head runs into).
    public var headerTimeout: Duration = .seconds(30)
    /// An open connection with no request under way (keep-alive).
    public var idleTimeout: Duration = .seconds(60)
    /// A request body that sends nothing while the server waits for it: answered 400 RequestTimeout, as AWS does.
    public var bodyStallTimeout: Duration = .seconds(30)
    /// Open connections at once; one more is answered 503 SlowDown and closed.
    public var maxConnections: Int = 10_000
    /// After a response that closes the connection, the most of the unread request body to read and discard
    /// (so that a client that writes its whole body before reading still gets the response) ...
    public var lingerBytes: Int = 128 << 20
    /// ... and the longest to spend doing so, ...
    public var lingerTime: Duration = .seconds(10)
    /// ... giving up sooner when the client sends nothing for this long.
    public var lingerIdle: Duration = .seconds(2)

    public init() {}
}

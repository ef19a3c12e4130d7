/// A bucket's static website configuration: an index document and an error document, or a redirect of every
/// request to another host, and routing rules that redirect by key prefix or error code.
public struct WebsiteConfiguration: Sendable, Codable, Equatable {
    public struct Redirect: Sendable, Codable, Equatable {
        public var hostName: String?
        public var httpRedirectCode: String?
        public var `protocol`: String?
        public var replaceKeyPrefixWith: String?
        public var replaceKeyWith: String?

        public init(
            hostName: String? = nil, httpRedirectCode: String? = nil, protocol: String? = nil,
            replaceKeyPrefixWith: String? = nil, replaceKeyWith: String? = nil
        ) {
            self.hostName = hostName
            self.httpRedirectCode = httpRedirectCode
            self.protocol = `protocol`
            self.replaceKeyPrefixWith = replaceKeyPrefixWith
            self.replaceKeyWith = replaceKeyWith
        }
    }

    public struct RoutingRule: Sendable, Codable, Equatable {
        public var keyPrefixEquals: String?
        public var httpErrorCodeReturnedEquals: String?
        public var redirect: Redirect

        public init(keyPrefixEquals: String? = nil, httpErrorCodeReturnedEquals: String? = nil, redirect: Redirect) {
            self.keyPrefixEquals = keyPrefixEquals
            self.httpErrorCodeReturnedEquals = httpErrorCodeReturnedEquals
            self.redirect = redirect
        }

        /// Whether the rule applies to `key`, before the object is looked up (errorCode nil) or once a lookup
        /// has failed with `errorCode`.
        public func matches(key: String, errorCode: Int?) -> Bool {
            if let prefix = keyPrefixEquals, !key.hasPrefix(prefix) { return false }
            guard let wanted = httpErrorCodeReturnedEquals else { return errorCode == nil }
            return errorCode.map(String.init) == wanted
        }
    }

    public struct RedirectAll: Sendable, Codable, Equatable {
        public var hostName: String
        public var `protocol`: String?

        public init(hostName: String, protocol: String? = nil) {
            self.hostName = hostName
            self.protocol = `protocol`
        }
    }

    public var indexSuffix: String?
    public var errorKey: String?
    public var redirectAll: RedirectAll?
    public var routingRules: [RoutingRule]

    public init(indexSuffix: String? = nil, errorKey: String? = nil, redirectAll: RedirectAll? = nil, routingRules: [RoutingRule] = []) {
        self.indexSuffix = indexSuffix
        self.errorKey = errorKey
        self.redirectAll = redirectAll
        self.routingRules = routingRules
    }

    /// The first rule that applies, as AWS evaluates them: in order.
    public func rule(for key: String, errorCode: Int?) -> RoutingRule? {
        routingRules.first { $0.matches(key: key, errorCode: errorCode) }
    }

    /// Where a matching rule sends a request for `key`: scheme, host and path (path begins with `/`), and the status.
    /// The redirected key (the request's decoded key, or the rule's replacement) goes into the URL through
    /// `encodeKey`, which percent-encodes it.
    public static func location(
        of redirect: Redirect, key: String, matchedPrefix: String?, requestHost: String, requestScheme: String,
        encodeKey: (String) -> String
    ) -> (url: String, status: Int) {
        var newKey = key
        if let replacement = redirect.replaceKeyWith {
            newKey = replacement
        } else if let replacement = redirect.replaceKeyPrefixWith {
            newKey = replacement + key.dropFirst(matchedPrefix?.count ?? 0)
        }
        let scheme = redirect.protocol ?? requestScheme
        let host = redirect.hostName ?? requestHost
        return ("\(scheme)://\(host)/\(encodeKey(newKey))", Int(redirect.httpRedirectCode ?? "") ?? 301)
    }
}

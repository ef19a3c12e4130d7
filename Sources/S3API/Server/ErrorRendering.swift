import HTTPTypes
import S3Wire

extension S3Error {
    /// The `<Error>` document and status for this error. HEAD responses carry no body.
    func response(resource: String, requestID: String, hostID: String, isHead: Bool) -> S3Response {
        var headers = HTTPFields()
        for (name, value) in self.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        guard !isHead else {
            var response = S3Response.empty(code.status, headers: headers)
            response.errorCode = code.rawValue
            return response
        }
        var response = S3Response.xml(document(resource: resource, requestID: requestID, hostID: hostID), status: code.status)
        for field in headers { response.headers.append(field) }
        response.errorCode = code.rawValue
        return response
    }

    /// The `<Error>` document alone.
    func document(resource: String, requestID: String, hostID: String) -> XMLWriter {
        var xml = XMLWriter()
        xml.element("Error") { x in
            x.element("Code", code.rawValue)
            x.element("Message", message)
            for (name, value) in details { x.element(name, value) }
            x.element("Resource", resource)
            x.element("RequestId", requestID)
            x.element("HostId", hostID)
        }
        return xml
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LocalStore
import Testing

/// A failing disk, through the blob store's fault seam, seen by a client of the real server.
@Suite(.serialized) struct DiskFaultTests {
    static func payload(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    }

    @Test func readErrorMidBodyCutsTheResponseShortAndIsLogged() async throws {
        try await TestServer.with { server in
            let data = Self.payload(3 << 20)
            #expect(try await server.request("PUT", "/faults/").status == 200)
            #expect(try await server.request("PUT", "/faults/big", body: data).status == 200)
            // The first read of the blob succeeds; the next one hits EIO after the status line is out.
            server.faults.fail(.read, with: EIO, after: 1)
            let response = try await server.request("GET", "/faults/big")
            #expect(response.status == 200)
            #expect(response.contentLength == data.count)
            #expect(!response.isComplete, "the body must be cut short, not padded or completed")
            #expect(!response.body.isEmpty)
            #expect(Array(data.prefix(response.body.count)) == response.body, "every byte sent is the object's")
            let requestID = try #require(response.headers["x-amz-request-id"])
            #expect(!server.logs.errors(requestID: requestID).isEmpty, "the read failure is logged with the request id")
            // The server goes on serving, and the object is intact once the disk is.
            server.faults.heal()
            let again = try await server.request("GET", "/faults/big")
            #expect(again.status == 200 && again.isComplete && again.body == data)
        }
    }

    struct WriteFault: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var operation: DiskOperation
        var errno: CInt
        var passes: Int
        var status: Int
        var code: String
    }

    @Test(arguments: [
        WriteFault(testDescription: "disk full at the first write", operation: .write, errno: ENOSPC, passes: 0, status: 503, code: "ServiceUnavailable"),
        WriteFault(testDescription: "disk full mid-body", operation: .write, errno: ENOSPC, passes: 3, status: 503, code: "ServiceUnavailable"),
        WriteFault(testDescription: "quota reached creating the file", operation: .create, errno: EDQUOT, passes: 0, status: 503, code: "ServiceUnavailable"),
        WriteFault(testDescription: "EIO on fsync", operation: .sync, errno: EIO, passes: 0, status: 500, code: "InternalError"),
    ])
    func failedPutStoresNothingAndTheServerRecovers(_ fault: WriteFault) async throws {
        try await TestServer.with { server in
            let data = Self.payload(2 << 20)
            #expect(try await server.request("PUT", "/faults/").status == 200)
            #expect(try await server.request("PUT", "/faults/kept", body: [1, 2, 3]).status == 200)
            server.faults.fail(fault.operation, with: fault.errno, after: fault.passes)
            let failed = try await server.request("PUT", "/faults/new", body: data)
            #expect(failed.status == fault.status)
            #expect(String(decoding: failed.body, as: UTF8.self).contains("<Code>\(fault.code)</Code>"))
            let requestID = try #require(failed.headers["x-amz-request-id"])
            #expect(!server.logs.errors(requestID: requestID).isEmpty)
            // Nothing visible, nothing left behind; reads still work.
            #expect(try await server.request("GET", "/faults/new").status == 404)
            #expect(server.temporaryFiles.isEmpty)
            #expect(try await server.request("GET", "/faults/kept").body == [1, 2, 3])
            // Once the disk has room again, the same PUT succeeds.
            server.faults.heal()
            #expect(try await server.request("PUT", "/faults/new", body: data).status == 200)
            #expect(try await server.request("GET", "/faults/new").body == data)
        }
    }
}

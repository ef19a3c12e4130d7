import Foundation
import ObjectStore

/// AWS's event message, as S3 sends it to SQS, SNS and Lambda: `{"Records":[...]}` with one record, or the
/// `s3:TestEvent` message a target gets when a configuration naming it is put.
public enum EventJSON {
    public static func message(for entry: OutboxEntry, region: String) throws -> [UInt8] {
        let event = entry.event
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        if event.isTestEvent {
            return Array(try encoder.encode(TestMessage(
                Service: "Amazon S3", Event: event.eventName, Time: timestamp(event.eventTime), Bucket: event.bucket,
                RequestId: event.requestID, HostId: event.requestID)))
        }
        let record = Record(
            eventVersion: "2.1", eventSource: "aws:s3", awsRegion: region, eventTime: timestamp(event.eventTime),
            // The record names the event without the `s3:` of the configuration's event types.
            eventName: event.eventName.hasPrefix("s3:") ? String(event.eventName.dropFirst(3)) : event.eventName,
            userIdentity: .init(principalId: event.principalID),
            requestParameters: .init(sourceIPAddress: event.sourceIP),
            responseElements: .init(requestID: event.requestID, hostID: event.requestID),
            s3: .init(
                s3SchemaVersion: "1.0", configurationId: event.configurationID,
                bucket: .init(
                    name: event.bucket, ownerIdentity: .init(principalId: event.bucketOwner ?? ""),
                    arn: "arn:aws:s3:::" + event.bucket),
                object: .init(
                    key: encodeKey(event.key), size: event.size, eTag: event.etag.map(unquoted),
                    versionId: event.versionID, sequencer: entry.sequencer)))
        return Array(try encoder.encode(Message(Records: [record])))
    }

    /// Keys are URL-encoded in event messages as in an HTML form: a space is `+`, and `/` stays as it is.
    public static func encodeKey(_ key: String) -> String {
        var out = ""
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static func unquoted(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    private struct TestMessage: Encodable {
        var Service: String
        var Event: String
        var Time: String
        var Bucket: String
        var RequestId: String
        var HostId: String
    }

    private struct Message: Encodable {
        var Records: [Record]
    }

    private struct Record: Encodable {
        struct Identity: Encodable { var principalId: String }
        struct RequestParameters: Encodable { var sourceIPAddress: String }
        struct ResponseElements: Encodable {
            var requestID: String
            var hostID: String
            enum CodingKeys: String, CodingKey {
                case requestID = "x-amz-request-id"
                case hostID = "x-amz-id-2"
            }
        }
        struct S3: Encodable {
            struct Bucket: Encodable {
                var name: String
                var ownerIdentity: Identity
                var arn: String
            }
            struct Object: Encodable {
                var key: String
                var size: Int64?
                var eTag: String?
                var versionId: String?
                var sequencer: String
            }
            var s3SchemaVersion: String
            var configurationId: String
            var bucket: Bucket
            var object: Object
        }
        var eventVersion: String
        var eventSource: String
        var awsRegion: String
        var eventTime: String
        var eventName: String
        var userIdentity: Identity
        var requestParameters: RequestParameters
        var responseElements: ResponseElements
        var s3: S3
    }
}

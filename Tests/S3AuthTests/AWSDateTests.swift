import Foundation
@testable import S3Auth
import Testing

struct AWSDateTests {
    @Test(arguments: [
        ("20130524T000000Z", 1_369_353_600.0),
        ("20261120T123456Z", 1_795_178_096.0),
        ("19700101T000000Z", 0.0),
        ("20000229T235959Z", 951_868_799.0),
    ])
    func parsesISO8601Basic(_ text: String, _ epoch: Double) {
        #expect(AWSDate.parseISO8601Basic(text) == Date(timeIntervalSince1970: epoch))
        #expect(AWSDate.iso8601Basic(Date(timeIntervalSince1970: epoch)) == text)
    }

    @Test(arguments: [
        ("Fri, 24 May 2013 00:00:00 GMT", 1_369_353_600.0),
        ("Fri, 20 Nov 2026 12:34:56 GMT", 1_795_178_096.0),
        ("24 May 2013 00:00:00 UTC", 1_369_353_600.0),
        ("Fri, 24 May 2013 00:00:00 -0000", 1_369_353_600.0),
        ("Fri, 24 May 2013 02:30:00 +0230", 1_369_353_600.0),
        ("Thu, 23 May 2013 19:00:00 -0500", 1_369_353_600.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ])
    func parsesHTTPDates(_ text: String, _ epoch: Double) {
        #expect(AWSDate.parseHTTPDate(text) == Date(timeIntervalSince1970: epoch))
    }

    @Test(arguments: ["", "20130524T000000", "2013-05-24T00:00:00Z", "20131324T000000Z", "20130524T250000Z",
                      "Fri, 24 Mai 2013 00:00:00 GMT", "Fri, 24 May 2013 00:00 GMT",
                      "Fri, 24 May 2013 00:00:00 +2400", "Fri, 24 May 2013 00:00:00 0000", "Fri, 24 May 2013 00:00:00 CET",
                      "Tue, 07 Jul 1950 21:53:04 GMT", "Wed, 31 Dec 1969 23:59:59 GMT"])
    func refusesOtherText(_ text: String) {
        #expect(AWSDate.parseAny(text) == nil)
    }

    @Test func formatsExtended() {
        #expect(AWSDate.iso8601Extended(Date(timeIntervalSince1970: 1_795_178_096)) == "2026-11-20T12:34:56Z")
    }
}

import S3Wire
import Testing

@Suite struct DeleteObjectsXMLTests {
    @Test func readsQuietKeysAndVersions() throws {
        let document = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet> TRUE </Quiet>"
            + "<Object><Key>a&amp;b</Key></Object><Object><Key> spaced </Key><VersionId>v1</VersionId></Object></Delete>"
        let request = try DeleteObjectsXML.parse(Array(document.utf8))
        #expect(request.quiet)
        #expect(request.objects.map(\.key) == ["a&b", " spaced "])  // keys are taken verbatim, spaces and all
        #expect(request.objects.map(\.versionID) == [nil, "v1"])
    }

    @Test(arguments: [
        ("another root", "<Remove><Object><Key>a</Key></Object></Remove>"),
        ("no objects", "<Delete><Quiet>true</Quiet></Delete>"),
        ("an object without a key", "<Delete><Object><VersionId>v</VersionId></Object></Delete>"),
        ("1,001 objects", "<Delete>" + String(repeating: "<Object><Key>k</Key></Object>", count: 1_001) + "</Delete>"),
    ])
    func refuses(_ name: String, _ document: String) {
        #expect(throws: S3Error.self, "\(name)") { try DeleteObjectsXML.parse(Array(document.utf8)) }
    }
}

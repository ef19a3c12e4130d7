import S3API
import S3Wire
import Testing

@Suite struct XMLReaderTests {
    struct Accepted: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var document: String
        var root: XMLElement
    }

    @Test(arguments: [
        Accepted(testDescription: "declaration and namespace", document: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><B>x</B></A>",
                 root: XMLElement(name: "A", children: [XMLElement(name: "B", text: "x")])),
        Accepted(testDescription: "prefixed names report their local name", document: "<s3:A xmlns:s3='urn:x'><s3:B>1</s3:B></s3:A>",
                 root: XMLElement(name: "A", children: [XMLElement(name: "B", text: "1")])),
        Accepted(testDescription: "predefined entities and character references", document: "<K>a&lt;b&gt;&amp;&quot;&apos;&#65;&#x42;&#13;</K>",
                 root: XMLElement(name: "K", text: "a<b>&\"'AB\r")),
        Accepted(testDescription: "CRLF and CR become LF", document: "<K>a\r\nb\rc</K>", root: XMLElement(name: "K", text: "a\nb\nc")),
        Accepted(testDescription: "CDATA is text", document: "<K><![CDATA[<not a tag> & ]]></K>", root: XMLElement(name: "K", text: "<not a tag> & ")),
        Accepted(testDescription: "comments and PIs are skipped", document: "<!-- c --><A><!-- in --><?pi x?><B/></A><!-- after -->",
                 root: XMLElement(name: "A", children: [XMLElement(name: "B")])),
        Accepted(testDescription: "empty root", document: "<Delete/>", root: XMLElement(name: "Delete")),
        Accepted(testDescription: "whitespace text is kept on the container", document: "<A>\n  <B>é</B>\n</A>",
                 root: XMLElement(name: "A", text: "\n  \n", children: [XMLElement(name: "B", text: "é")])),
        Accepted(testDescription: "byte order mark", document: "\u{FEFF}<A/>", root: XMLElement(name: "A")),
        Accepted(testDescription: "attributes with entities in both quote styles", document: "<A x=\"1&amp;2\" y='3'  ><B   /></A >",
                 root: XMLElement(name: "A", children: [XMLElement(name: "B")])),
    ])
    func accepts(_ example: Accepted) throws {
        #expect(try XMLReader.parse(Array(example.document.utf8)) == example.root)
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var bytes: [UInt8]
        var limits: XMLLimits = .small

        init(_ description: String, _ document: String, limits: XMLLimits = .small) {
            self.testDescription = description
            self.bytes = Array(document.utf8)
            self.limits = limits
        }

        init(_ description: String, bytes: [UInt8]) {
            self.testDescription = description
            self.bytes = bytes
        }
    }

    @Test(arguments: [
        Refused("empty", ""),
        Refused("not XML", "not xml at all"),
        Refused("unclosed", "<unclosed>"),
        Refused("mismatched end tag", "<a></b>"),
        Refused("prefix must match too", "<x:a></y:a>"),
        Refused("two roots", "<a/><b/>"),
        Refused("text after the root", "<a/>junk"),
        Refused("DOCTYPE", "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>"),
        Refused("DOCTYPE inside an element", "<a><!DOCTYPE a></a>"),
        Refused("unknown entity", "<a>&e;</a>"),
        Refused("unterminated entity", "<a>&amp</a>"),
        Refused("NUL character reference", "<a>&#0;</a>"),
        Refused("surrogate character reference", "<a>&#xD800;</a>"),
        Refused("character reference out of range", "<a>&#x110000;</a>"),
        Refused("invalid UTF-8 text", bytes: Array("<a>".utf8) + [0xFF, 0xFE] + Array("</a>".utf8)),
        Refused("attribute without quotes", "<a x=1/>"),
        Refused("attribute without whitespace", "<a x='1'y='2'/>"),
        Refused("< in an attribute value", "<a x='<'/>"),
        Refused("comment with --", "<a><!-- a -- b --></a>"),
        Refused("unterminated CDATA", "<a><![CDATA[x</a>"),
        Refused("name starting with a digit", "<1a/>"),
        Refused("deeper than the limit", String(repeating: "<a>", count: 33) + String(repeating: "</a>", count: 33)),
        Refused("100,000 levels", String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)),
        Refused("more elements than the limit", "<a>" + String(repeating: "<b/>", count: 10) + "</a>", limits: XMLLimits(maxElements: 10)),
    ])
    func refuses(_ example: Refused) {
        #expect(throws: S3Error.self) { try XMLReader.parse(example.bytes, limits: example.limits) }
    }

    @Test func allowsExactlyTheLimits() throws {
        let deep = String(repeating: "<a>", count: 32) + String(repeating: "</a>", count: 32)
        _ = try XMLReader.parse(Array(deep.utf8))
        let wide = "<a>" + String(repeating: "<b/>", count: 9) + "</a>"
        #expect(try XMLReader.parse(Array(wide.utf8), limits: XMLLimits(maxElements: 10)).children.count == 9)
    }

    @Test func largestValidDocumentsFitTheirLimits() throws {
        let part = "<Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag><ChecksumCRC32>a</ChecksumCRC32><ChecksumCRC32C>a</ChecksumCRC32C>"
            + "<ChecksumCRC64NVME>a</ChecksumCRC64NVME><ChecksumSHA1>a</ChecksumSHA1><ChecksumSHA256>a</ChecksumSHA256></Part>"
        let complete = "<CompleteMultipartUpload>" + String(repeating: part, count: 10_000) + "</CompleteMultipartUpload>"
        #expect(try XMLReader.parse(Array(complete.utf8), limits: .completeMultipartUpload).children.count == 10_000)
        let tooMany = "<CompleteMultipartUpload>" + String(repeating: part, count: 10_001) + "</CompleteMultipartUpload>"
        #expect(throws: S3Error.self) { try XMLReader.parse(Array(tooMany.utf8), limits: .completeMultipartUpload) }

        let object = "<Object><Key>k</Key><VersionId>v</VersionId><ETag>e</ETag><LastModifiedTime>t</LastModifiedTime><Size>1</Size></Object>"
        let delete = "<Delete><Quiet>true</Quiet>" + String(repeating: object, count: 1_000) + "</Delete>"
        #expect(try XMLReader.parse(Array(delete.utf8), limits: .deleteObjects).children.count == 1_001)
    }
}

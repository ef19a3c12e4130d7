import ObjectStore
import Testing

struct ListingCase: CustomTestStringConvertible, Sendable {
    var name: String
    var keys: [String]
    var query: ListQuery
    var objects: [String]
    var prefixes: [String]
    var truncated: Bool
    var testDescription: String { name }
}

let photoKeys = ["a.txt", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/d.jpg", "videos/x.mp4", "z"]

@Suite struct ListingTests {
    static let cases: [ListingCase] = [
        ListingCase(name: "everything", keys: photoKeys, query: ListQuery(), objects: photoKeys, prefixes: [], truncated: false),
        ListingCase(name: "top-level folders", keys: photoKeys, query: ListQuery(delimiter: "/"),
                    objects: ["a.txt", "z"], prefixes: ["photos/", "videos/"], truncated: false),
        ListingCase(name: "one folder", keys: photoKeys, query: ListQuery(prefix: "photos/", delimiter: "/"),
                    objects: ["photos/d.jpg"], prefixes: ["photos/2024/", "photos/2025/"], truncated: false),
        ListingCase(name: "prefix without delimiter", keys: photoKeys, query: ListQuery(prefix: "photos/2024"),
                    objects: ["photos/2024/a.jpg", "photos/2024/b.jpg"], prefixes: [], truncated: false),
        ListingCase(name: "max-keys counts prefixes", keys: photoKeys, query: ListQuery(delimiter: "/", maxKeys: 2),
                    objects: ["a.txt"], prefixes: ["photos/"], truncated: true),
        ListingCase(name: "marker inside a common prefix skips it", keys: photoKeys,
                    query: ListQuery(delimiter: "/", after: "photos/"),
                    objects: ["z"], prefixes: ["videos/"], truncated: false),
        ListingCase(name: "marker after everything", keys: photoKeys, query: ListQuery(after: "zz"), objects: [], prefixes: [], truncated: false),
        ListingCase(name: "marker before prefix", keys: photoKeys, query: ListQuery(prefix: "v", after: "a"),
                    objects: ["videos/x.mp4"], prefixes: [], truncated: false),
        ListingCase(name: "max-keys zero", keys: photoKeys, query: ListQuery(maxKeys: 0), objects: [], prefixes: [], truncated: false),
        ListingCase(name: "exact page is not truncated", keys: ["a", "b"], query: ListQuery(maxKeys: 2), objects: ["a", "b"], prefixes: [], truncated: false),
        ListingCase(name: "UTF-8 byte order, not UTF-16", keys: ["\u{FF61}", "\u{1F600}", "a"], query: ListQuery(),
                    objects: ["a", "\u{FF61}", "\u{1F600}"], prefixes: [], truncated: false),
        ListingCase(name: "multi-character delimiter", keys: ["a--b", "a--c", "ab"], query: ListQuery(delimiter: "--"),
                    objects: ["ab"], prefixes: ["a--"], truncated: false),
        ListingCase(name: "key equal to a common prefix", keys: ["a/", "a/b", "b"], query: ListQuery(delimiter: "/"),
                    objects: ["b"], prefixes: ["a/"], truncated: false),
        ListingCase(name: "tricky keys are just keys", keys: ["../../etc/passwd", "dir//x", "a", "a/b"], query: ListQuery(prefix: "dir/", delimiter: "/"),
                    objects: [], prefixes: ["dir//"], truncated: false),
    ]

    @Test(arguments: cases)
    func lists(_ c: ListingCase) async throws {
        let index = try await InMemoryIndex.with(keys: c.keys)
        let page = try await Lister(index: index, batchSize: 3).list(bucket: "b", query: c.query)
        #expect(page.objects.map(\.key) == c.objects)
        #expect(page.commonPrefixes == c.prefixes)
        #expect(page.isTruncated == c.truncated)
    }

    @Test(arguments: [1, 2, 3, 5, 100])
    func pagingNeverRepeatsOrSkips(pageSize: Int) async throws {
        let keys = (0..<40).map { "k/\($0 % 7)/\($0)" } + (0..<10).map { "top\($0)" }
        let index = try await InMemoryIndex.with(keys: keys)
        for delimiter in [nil, "/"] as [String?] {
            let full = try await Lister(index: index).list(bucket: "b", query: ListQuery(delimiter: delimiter))
            var seen: [String] = []
            var after: String?
            while true {
                let page = try await Lister(index: index, batchSize: 4).list(
                    bucket: "b", query: ListQuery(delimiter: delimiter, after: after, maxKeys: pageSize))
                seen += page.objects.map(\.key) + page.commonPrefixes
                guard page.isTruncated else { break }
                after = page.lastEntry
            }
            #expect(seen.sorted() == (full.objects.map(\.key) + full.commonPrefixes).sorted())
            #expect(Set(seen).count == seen.count)
        }
    }

    @Test func commonPrefixCostsOneSeekNotAScan() async throws {
        let keys = (0..<1000).map { "big/\($0)" } + ["small"]
        let index = try await InMemoryIndex.with(keys: keys)
        let page = try await Lister(index: index, batchSize: 10).list(bucket: "b", query: ListQuery(delimiter: "/"))
        #expect(page.commonPrefixes == ["big/"])
        #expect(page.objects.map(\.key) == ["small"])
        #expect(index.scanCount <= 3)
    }

    @Test func missingBucket() async throws {
        let index = InMemoryIndex()
        await #expect(throws: StoreError.noSuchBucket) {
            _ = try await Lister(index: index).list(bucket: "nope", query: ListQuery())
        }
    }
}

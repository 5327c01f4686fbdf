internal import Foundation

/// A request log (see ``RequestLog`` for the format) read back: the attempts to retry, the
/// purchases acknowledged, and the lines that could not be understood.
public struct RequestLogContents: Sendable {
    /// One logged attempt.
    public struct Attempt: Sendable, Hashable {
        /// The item id.
        public var item: String
        /// The buyer.
        public var user: String
        /// Units asked.
        public var quantity: Int
        /// The request id the attempt was sent with.
        public var request: String
        /// The line it was logged on (1-based).
        public var line: Int
        /// The order id of its `A` line, nil when none was written.
        public var acknowledgedOrder: String?
    }

    /// A line that is neither an attempt, an acknowledgement nor a comment.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The line number (1-based).
        public var line: Int
        /// What is wrong with it.
        public var message: String

        public var description: String { "line \(line): \(message)" }
    }

    /// Attempts with distinct request ids, in the order they were logged.
    public var attempts: [Attempt] = []
    /// Attempt lines that repeat an earlier one exactly (retried once).
    public var duplicates = 0
    /// Lines that could not be understood (a torn last line is not one of them).
    public var problems: [Problem] = []
    /// The number of the last line when it has no newline: the process was killed while
    /// writing it, so its attempt was never sent; it is skipped.
    public var tornLine: Int?
    /// Lines read, a torn last line included.
    public var lines = 0

    /// Acknowledgement lines matched to an attempt.
    public var acknowledged: Int { attempts.reduce(0) { $0 + ($1.acknowledgedOrder == nil ? 0 : 1) } }

    /// Parses the bytes of a log.
    public init(parsing bytes: some Collection<UInt8>) {
        var index: [String: Int] = [:]
        var lineNumber = 0
        var start = bytes.startIndex
        while start != bytes.endIndex {
            lineNumber += 1
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                tornLine = lineNumber
                break
            }
            parse(String(decoding: bytes[start..<end], as: UTF8.self), line: lineNumber, index: &index)
            start = bytes.index(after: end)
        }
        lines = lineNumber
    }

    /// Reads and parses the log at `path`.
    ///
    /// - Throws: ``SaleError`` with ``SaleError/Code/requestLog`` when the file cannot be read.
    public static func read(path: String) throws(SaleError) -> RequestLogContents {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file"
            throw SaleError(code: .requestLog, message: "cannot read the request log \(path): \(reason)")
        }
        return RequestLogContents(parsing: data)
    }

    private mutating func parse(_ text: String, line: Int, index: inout [String: Int]) {
        if text.isEmpty || text.hasPrefix("#") { return }
        let fields = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if fields.count == 4 {
            let (item, user, request) = (fields[0], fields[1], fields[3])
            do throws(SaleError) {
                try SaleInput.validateItem(item)
                try SaleInput.validateUser(user)
                try SaleInput.validateRequestID(request)
            } catch {
                problems.append(Problem(line: line, message: error.message))
                return
            }
            guard let quantity = Int(fields[2]), (1...SaleInput.maxQuantity).contains(quantity) else {
                problems.append(
                    Problem(
                        line: line, message: "quantity \"\(fields[2].prefix(20))\" is not an integer from 1 to \(SaleInput.maxQuantity)"))
                return
            }
            if let earlier = index[request] {
                let first = attempts[earlier]
                if first.item == item && first.user == user && first.quantity == quantity {
                    duplicates += 1
                } else {
                    problems.append(
                        Problem(
                            line: line,
                            message:
                                "request id \(request) was logged at line \(first.line) for another purchase (\(first.item) \(first.user) \(first.quantity)); not retried"
                        ))
                }
                return
            }
            index[request] = attempts.count
            attempts.append(Attempt(item: item, user: user, quantity: quantity, request: request, line: line))
        } else if fields.count == 3 && fields[0] == "A" {
            let (request, order) = (fields[1], fields[2])
            do throws(SaleError) { try SaleInput.validateOrder(order) } catch {
                problems.append(Problem(line: line, message: error.message))
                return
            }
            guard let position = index[request] else {
                problems.append(
                    Problem(line: line, message: "acknowledges request id \(request.prefix(80)), which no earlier line attempts"))
                return
            }
            if let earlier = attempts[position].acknowledgedOrder, earlier != order {
                problems.append(
                    Problem(
                        line: line,
                        message: "acknowledges request id \(request) with order \(order), but an earlier line gave order \(earlier)"))
                return
            }
            attempts[position].acknowledgedOrder = order
        } else {
            let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
            problems.append(
                Problem(
                    line: line, message: "expected \"ITEM USER QUANTITY REQUEST\" or \"A REQUEST ORDER\", got \(SaleInput.quoted(shown))"))
        }
    }
}

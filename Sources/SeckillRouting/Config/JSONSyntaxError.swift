/// A JSON document that does not follow RFC 8259, with where and why.
///
/// The description reads `line 4, column 17: expected ',' or '}' after object member`.
/// Lines and columns are 1-based; columns count Unicode scalars, tabs count as one.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: Sendable, Equatable {
        case expected(String)
        case unexpectedEnd(expected: String)
        case other(String)
    }

    /// The 1-based line of the problem.
    public let line: Int
    /// The 1-based column of the problem, in Unicode scalars.
    public let column: Int
    private let reason: Reason

    init(line: Int, column: Int, expected: String) {
        self.line = line
        self.column = column
        self.reason = .expected(expected)
    }

    init(line: Int, column: Int, unexpectedEndExpecting expected: String) {
        self.line = line
        self.column = column
        self.reason = .unexpectedEnd(expected: expected)
    }

    init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.reason = .other(message)
    }

    /// What is wrong, without the position.
    public var message: String {
        switch reason {
        case .expected(let what): "expected \(what)"
        case .unexpectedEnd(let what): "unexpected end of input, expected \(what)"
        case .other(let message): message
        }
    }

    /// `line L, column C: message`.
    public var description: String {
        "line \(line), column \(column): \(message)"
    }
}

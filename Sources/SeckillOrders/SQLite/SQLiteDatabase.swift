internal import CSQLite

/// One SQLite connection: open, run statements, bind and read values. Not thread-safe: its
/// owner serialises every use (``SQLiteOrderSink`` holds it under a `Mutex`).
final class SQLiteDatabase {
    private let handle: OpaquePointer
    /// The file it was opened from, for messages.
    let path: String

    /// Opens (creating when missing) the database at `path`.
    ///
    /// - Throws: ``OrderError`` naming the file when SQLite cannot open it.
    init(path: String) throws(OrderError) {
        var db: OpaquePointer?
        let status = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard status == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            if let db { sqlite3_close_v2(db) }
            throw .database("cannot open the SQLite database \(path): \(reason)")
        }
        handle = db
        self.path = path
        // A second process (sqlite3 in a shell, an audit) may read while the consumer writes.
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs `sql` (one or more statements without parameters).
    func execute(_ sql: String) throws(OrderError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let reason = error.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_free(error)
            throw .database("\(path): \(reason) (in \(sql.prefix(60))...)")
        }
    }

    /// Compiles `sql` into a statement.
    func prepare(_ sql: String) throws(OrderError) -> Statement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw .database("\(path): \(lastError) (preparing \(sql.prefix(60))...)")
        }
        return Statement(handle: statement, database: self)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// SQLite's message for the last failure.
    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE` ... `COMMIT`), rolled back when it throws.
    func transaction<R>(_ body: () throws(OrderError) -> R) throws(OrderError) -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A compiled statement; parameters are bound by position (1-based), then it is stepped.
    final class Statement {
        private let handle: OpaquePointer
        private let database: SQLiteDatabase

        fileprivate init(handle: OpaquePointer, database: SQLiteDatabase) {
            self.handle = handle
            self.database = database
        }

        deinit { sqlite3_finalize(handle) }

        /// Binds `values` to the parameters in order, after a reset.
        func bind(_ values: [Value]) throws(OrderError) {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                let status: Int32
                switch value {
                case .null: status = sqlite3_bind_null(handle, index)
                case .int(let number): status = sqlite3_bind_int64(handle, index, number)
                case .text(let text): status = sqlite3_bind_text(handle, index, text, -1, Self.transient)
                }
                if status != SQLITE_OK { throw .database("\(database.path): cannot bind parameter \(index): \(database.lastError)") }
            }
        }

        /// Runs the statement to its next row.
        ///
        /// - Returns: True when a row is ready to read, false when the statement is done.
        func step() throws(OrderError) -> Bool {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw .database("\(database.path): \(database.lastError)")
            }
        }

        /// Binds `values` and runs the statement to its end.
        func run(_ values: [Value]) throws(OrderError) {
            try bind(values)
            while try step() {}
        }

        /// Binds `values` and returns every row, each column as text (NULL as nil).
        func rows(_ values: [Value] = []) throws(OrderError) -> [[String?]] {
            try bind(values)
            var rows: [[String?]] = []
            let columns = sqlite3_column_count(handle)
            while try step() {
                rows.append(
                    (0..<columns).map { column in
                        sqlite3_column_type(handle, column) == SQLITE_NULL
                            ? nil : sqlite3_column_text(handle, column).map { String(cString: $0) }
                    })
            }
            return rows
        }

        // SQLITE_TRANSIENT (a macro Swift cannot import): SQLite copies the text before the call returns.
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }

    /// A value bound to a statement parameter.
    enum Value {
        case null
        case int(Int64)
        case text(String)
    }
}

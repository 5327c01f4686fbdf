#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a config file whole, turning `errno` into messages that name the path.
enum ConfigFile {
    /// Files larger than this are refused: a cluster.json is a few kilobytes.
    static let maxSize = 16 << 20

    static func contents(ofPath path: String) throws(ConfigError) -> [UInt8] {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            throw failure(path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw failure(path: path, errno: code)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxSize {
                throw ConfigError(.unreadable, "\(path): file is larger than \(maxSize >> 20) MiB; is this really a cluster config?")
            }
        }
    }

    private static func failure(path: String, errno code: Int32) -> ConfigError {
        switch code {
        case ENOENT:
            ConfigError(
                .fileNotFound, "\(path): file not found; pass the right path or create one with `seckill config init --nodes HOST:PORT,...`"
            )
        case EACCES:
            ConfigError(.unreadable, "\(path): permission denied; make the file readable by this user")
        case EISDIR:
            ConfigError(.unreadable, "\(path): is a directory, not a cluster config file")
        default:
            ConfigError(.unreadable, "\(path): cannot read: \(String(cString: strerror(code)))")
        }
    }
}

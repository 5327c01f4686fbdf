/// Redis AUTH credentials (`auth` in cluster.json).
///
/// The password itself never appears in the file: `passwordEnv` names the environment
/// variable that holds it, read when connecting.
public struct AuthSettings: Sendable, Hashable {
    /// The ACL user name; `nil` sends `AUTH password` (the `default` user).
    public var username: String?
    /// The name of the environment variable holding the password.
    public var passwordEnv: String

    /// Creates AUTH settings.
    ///
    /// - Parameters:
    ///   - username: The ACL user name, or `nil` for the default user.
    ///   - passwordEnv: The environment variable holding the password.
    public init(username: String? = nil, passwordEnv: String) {
        self.username = username
        self.passwordEnv = passwordEnv
    }

    /// Reads the password from an environment.
    ///
    /// - Parameter environment: The environment variables, e.g. `ProcessInfo.processInfo.environment`.
    /// - Returns: The password.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/missingPassword`` when the
    ///   variable is unset or empty.
    public func password(environment: [String: String]) throws(ConfigError) -> String {
        guard let password = environment[passwordEnv] else {
            throw ConfigError(
                .missingPassword,
                "environment variable \(passwordEnv) is not set; the cluster config's auth.passwordEnv names it as the Redis password: export \(passwordEnv)=..., or remove the auth section if the nodes have no password"
            )
        }
        guard !password.isEmpty else {
            throw ConfigError(
                .missingPassword,
                "environment variable \(passwordEnv) is empty; the cluster config's auth.passwordEnv names it as the Redis password: set it to the password, or remove the auth section if the nodes have no password"
            )
        }
        return password
    }

    /// Reads the password from this process's environment.
    ///
    /// - Returns: The password.
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/missingPassword`` when the
    ///   variable is unset or empty.
    public func password() throws(ConfigError) -> String {
        try password(environment: ProcessEnvironment.current())
    }
}

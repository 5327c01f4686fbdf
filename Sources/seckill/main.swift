import SeckillCLI

#if canImport(Glibc)
    import Glibc
#endif

// A closed peer must give EPIPE on write, never kill the process.
signal(SIGPIPE, SIG_IGN)
let status = await SeckillCommandLine.run(Array(CommandLine.arguments.dropFirst()), console: .standard())
exit(status)

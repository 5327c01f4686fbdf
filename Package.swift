// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// The call path: a nonisolated async function runs on its caller's executor instead of
// hopping to the global one at every call, so a caller on the I/O thread stays there.
let callPath: [SwiftSetting] = strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "Seckill",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SeckillRESP", targets: ["SeckillRESP"]),
        .library(name: "SeckillTransport", targets: ["SeckillTransport"]),
        .library(name: "SeckillRouting", targets: ["SeckillRouting"]),
        .library(name: "SeckillSale", targets: ["SeckillSale"]),
        .library(name: "SeckillOrders", targets: ["SeckillOrders"]),
        .executable(name: "seckill", targets: ["seckill"]),
    ],
    targets: [
        // Wire protocol only: RESP2/RESP3 values, encoder, incremental decoder. No I/O.
        .target(name: "SeckillRESP", swiftSettings: strict),
        // The few syscalls Glibc does not surface cleanly (epoll, eventfd).
        .target(name: "CSeckillSys"),
        // Sockets, the event loop, pipelined connections and per-node pools.
        .target(name: "SeckillTransport", dependencies: ["SeckillRESP", "CSeckillSys"], swiftSettings: callPath),
        // cluster.json, hash slots, the slot map and the router.
        .target(name: "SeckillRouting", dependencies: ["SeckillTransport", "SeckillRESP"], swiftSettings: callPath),
        // The flash sale: item keys, Lua scripts, the coordinator, invariants and the sale runner.
        .target(name: "SeckillSale", dependencies: ["SeckillRouting", "SeckillTransport", "SeckillRESP"], swiftSettings: callPath),
        // The system SQLite library (Debian's libsqlite3-dev), used only by SeckillOrders.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // After the sale: orders streams handed to a database (consumer groups, sinks, SQLite) and the audit.
        .target(
            name: "SeckillOrders", dependencies: ["SeckillSale", "SeckillRouting", "SeckillTransport", "SeckillRESP", "CSQLite"],
            swiftSettings: callPath),
        // The command-line interface, as a library so tests can drive it.
        .target(
            name: "SeckillCLI", dependencies: ["SeckillOrders", "SeckillSale", "SeckillRouting", "SeckillTransport", "SeckillRESP"],
            swiftSettings: strict),
        .executableTarget(name: "seckill", dependencies: ["SeckillCLI"], swiftSettings: strict),

        // Starts real redis-server processes for the tests; never part of a product.
        .target(name: "SeckillTestSupport", path: "Tests/SeckillTestSupport", swiftSettings: strict),

        .testTarget(name: "SeckillRESPTests", dependencies: ["SeckillRESP"], swiftSettings: strict),
        .testTarget(
            name: "SeckillTransportTests", dependencies: ["SeckillTransport", "SeckillRESP", "SeckillTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SeckillRoutingTests", dependencies: ["SeckillRouting", "SeckillTransport", "SeckillRESP", "SeckillTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "SeckillSaleTests",
            dependencies: ["SeckillSale", "SeckillRouting", "SeckillTransport", "SeckillRESP", "SeckillTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SeckillClusterTests",
            dependencies: [
                "SeckillCLI", "SeckillOrders", "SeckillSale", "SeckillRouting", "SeckillTransport", "SeckillRESP", "SeckillTestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SeckillOrdersTests",
            dependencies: ["SeckillOrders", "SeckillSale", "SeckillRouting", "SeckillTransport", "SeckillRESP", "SeckillTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "SeckillCLITests",
            dependencies: ["SeckillCLI", "SeckillOrders", "SeckillSale", "SeckillRouting", "SeckillRESP", "SeckillTestSupport"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

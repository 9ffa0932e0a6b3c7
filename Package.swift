// swift-tools-version:6.0
import PackageDescription

// No third-party dependencies: Foundation and the toolchain only.
let package = Package(
    name: "kubectl-xpid",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kubectl-xpid", targets: ["kubectl-xpid"])
    ],
    targets: [
        // Pure: models, checks, catalogue, report model. No processes, no files.
        .target(name: "XpidCore"),
        // I/O shell: command runner, kubectl/aws adapters, snapshot gatherer.
        .target(name: "XpidGather", dependencies: ["XpidCore"]),
        // Argument parsing, help, completions, renderers, exit codes.
        .target(name: "XpidCLI", dependencies: ["XpidCore", "XpidGather"]),
        .executableTarget(name: "kubectl-xpid", dependencies: ["XpidCLI"]),

        .target(name: "XpidTestSupport", dependencies: ["XpidCore", "XpidGather"], path: "Tests/XpidTestSupport"),
        .testTarget(name: "XpidCoreTests", dependencies: ["XpidCore", "XpidTestSupport"]),
        .testTarget(name: "XpidGatherTests", dependencies: ["XpidGather", "XpidTestSupport"]),
        .testTarget(name: "XpidCLITests", dependencies: ["XpidCLI", "XpidTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import TalktimeCore

// Helpers for the benchmarks in bench/, built from the same code the service uses:
//   talktime-bench bcrypt-cost COST RUNS               median seconds of one hash at COST on one thread
//   talktime-bench bcrypt-count COST SECONDS            how many hashes one thread completes in SECONDS
//   talktime-bench bcrypt-hash COST                    a hash of the password on standard input, for seeding
//   talktime-bench probe PORT PATH SECONDS RATE        paced GETs on 127.0.0.1 (token from BENCH_TOKEN), percentiles
//   talktime-bench ledger-setup URL SLUG WALLETS ADVISORS   a Licensee with funded wallets, for ledger-charges
//   talktime-bench ledger-charges URL SLUG CLIENTS SECONDS  call charges through Ledger.post, charges per second
//   talktime-bench billing-setup URL SLUG CALLS         CALLS active calls, all due now
//   talktime-bench billing-charge URL ENGINES BATCH [CONCURRENCY]
//                                                       engines charge every due call, each CONCURRENCY (2) batches
//                                                       at once: increments/s, count, seconds
//   talktime-bench fake-livekit                         a fake LiveKit on loopback until killed; prints URL KEY SECRET
//   talktime-bench call-setup URL SLUG PAIRS TOKENS     PAIRS funded End Users and available Advisors; their access
//                                                       tokens (JWT_SIGNING_KEY from the environment) to TOKENS
//   talktime-bench call-load PORT TOKENS RATE           POST /v1/calls at RATE a second, one line of TOKENS each
// As the service runs (Sources/Talktime/main.swift): concurrency jobs on NIO's event loops.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
let arguments = Array(CommandLine.arguments.dropFirst())
switch (arguments.first, arguments.count) {
case ("bcrypt-cost", 3):
    guard let cost = UInt8(arguments[1]), let runs = Int(arguments[2]), runs > 0 else { usage() }
    let seconds = (0..<runs).map { _ in measure { _ = Bcrypt.hash("benchmark password", cost: cost) } }
    print(String(format: "%.6f", seconds.sorted()[runs / 2]))
case ("bcrypt-count", 3):
    guard let cost = UInt8(arguments[1]), let seconds = Double(arguments[2]) else { usage() }
    let end = ContinuousClock.now + .seconds(seconds)
    var count = 0
    while ContinuousClock.now < end {
        _ = Bcrypt.hash("benchmark password", cost: cost)
        count += 1
    }
    print(count)
case ("bcrypt-hash", 2):
    guard let cost = UInt8(arguments[1]), let password = readLine(strippingNewline: true) else { usage() }
    print(Bcrypt.hash(password, cost: cost))
case ("probe", 5):
    guard let port = UInt16(arguments[1]), let seconds = Double(arguments[3]), let rate = Double(arguments[4]) else { usage() }
    let token = arguments[2] == "/healthz" ? nil : ProcessInfo.processInfo.environment["BENCH_TOKEN"]
    Probe(port: port, path: arguments[2], token: token).run(seconds: seconds, rate: rate)
case ("ledger-setup", 5):
    guard let wallets = Int(arguments[3]), let advisors = Int(arguments[4]) else { usage() }
    try await LedgerBench.setUp(url: arguments[1], slug: arguments[2], wallets: wallets, advisors: advisors)
case ("ledger-charges", 5):
    guard let clients = Int(arguments[3]), let seconds = Double(arguments[4]) else { usage() }
    try await LedgerBench.charge(url: arguments[1], slug: arguments[2], clients: clients, seconds: seconds)
case ("billing-setup", 4):
    guard let calls = Int(arguments[3]) else { usage() }
    try await BillingBench.setUp(url: arguments[1], slug: arguments[2], calls: calls)
case ("billing-charge", 4), ("billing-charge", 5):
    guard let engines = Int(arguments[2]), let batch = Int(arguments[3]),
        let concurrency = arguments.count == 5 ? Int(arguments[4]) : CallSettings().billingConcurrency
    else { usage() }
    try await BillingBench.chargeDue(url: arguments[1], engines: engines, batchSize: batch, concurrency: concurrency)
case ("fake-livekit", 1):
    try await CallStartBench.serveFakeLiveKit()
case ("call-setup", 5):
    guard let pairs = Int(arguments[3]) else { usage() }
    try await CallStartBench.setUp(url: arguments[1], slug: arguments[2], pairs: pairs, tokensFile: arguments[4])
case ("call-load", 4):
    guard let port = UInt16(arguments[1]), let rate = Double(arguments[3]) else { usage() }
    try CallStartBench.load(port: port, tokensFile: arguments[2], rate: rate)
default:
    usage()
}

func measure(_ work: () -> Void) -> Double {
    let start = ContinuousClock.now
    work()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: see the comment at the top of bench/Sources/TalktimeBench/main.swift\n".utf8))
    exit(64)
}

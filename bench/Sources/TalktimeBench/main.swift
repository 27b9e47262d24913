import Foundation
import HummingbirdBcrypt

// Helpers for the benchmarks, built from the same BCrypt the service uses:
//   talktime-bench bcrypt-cost COST RUNS   median seconds of one hash at COST on one thread
//   talktime-bench bcrypt-hash COST        a hash of the password read from standard input, for seeding
let arguments = CommandLine.arguments
switch (arguments.count, arguments.dropFirst().first) {
case (4, "bcrypt-cost"):
    guard let cost = UInt8(arguments[2]), let runs = Int(arguments[3]), runs > 0 else { usage() }
    var seconds: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        _ = Bcrypt.hash("benchmark password", cost: cost)
        let elapsed = ContinuousClock.now - start
        seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    print(String(format: "%.6f", seconds.sorted()[runs / 2]))
case (3, "bcrypt-hash"):
    guard let cost = UInt8(arguments[2]), let password = readLine(strippingNewline: true) else { usage() }
    print(Bcrypt.hash(password, cost: cost))
default:
    usage()
}

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: talktime-bench bcrypt-cost COST RUNS | bcrypt-hash COST < password\n".utf8))
    exit(64)
}

import NIOCore
import NIOPosix

// Swift Concurrency's jobs run on NIO's event loops rather than on a pool of their own: every database round trip
// and every request otherwise hops between a concurrency thread and an event loop thread and back, and on this
// kind of machine each hop is a thread wake-up. Measured with bench/ledger-charges.sh's charge loop (8 clients,
// 10,000 wallets): 10 to 19 % more charges a second for 15 to 20 % less client CPU a charge. Hashing keeps its own
// threads (PasswordHasher); the longest stretch left on an event loop is the billing engine preparing a batch
// (about 15 ms for 500 calls), which made one engine a few percent slower (bench/README.md). This must run before
// anything is enqueued on the global executor, hence here, before the command starts.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

// In top-level code `TalktimeCommand.main()` resolves to the synchronous overload, which runs no async
// subcommand; inside an async function it is the async one, as under `@main`.
func runTalktimeCommand() async {
    await TalktimeCommand.main()
}
await runTalktimeCommand()

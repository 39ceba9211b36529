# Sourced by scripts/test.sh and scripts/fuzz_parsers.sh: the sanitizers' run-time options.
# halt_on_error / abort_on_error: the first finding fails the program (and its test).
# detect_leaks: LeakSanitizer at exit, with the third-party suppressions of
# tests/sanitizer/lsan.supp. Forked measurement children inherit these variables.
# handle_segv=0: the measurement tests make a candidate crash with SIGSEGV on purpose and check
# that the runner reports that signal; ASan's own SEGV handler would turn it into SIGABRT.
# Memory errors are still caught by the instrumentation; a stray SIGSEGV still fails the test
# (rerun with ASAN_OPTIONS=handle_segv=1 for ASan's stack trace of it).
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export ASAN_OPTIONS="detect_leaks=1:handle_segv=0:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/sanitizer/ubsan.supp"
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizer/lsan.supp:print_suppressions=0"

// caseledger: one executable, one subcommand per task an operator runs (docs/cli.md). The
// commands, their usage and flags are the table in command_table.cc; this only dispatches.
// Benchmarks, load and demo generators are executables of their own (tools/).
#include "app/command_table.h"

int main(int argc, char** argv) { return caseledger::app::RunProgram(caseledger::app::CaseledgerProgram(), argc, argv); }

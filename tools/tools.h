// The commands of the tools apart from the product: caseledger-bench (bench_main.cc),
// caseledger-loadgen (loadgen_main.cc) and caseledger-demo (demo_main.cc). Each takes the
// arguments after its name and returns the exit code: 0 ok, 1 failure, 2 usage error.
#pragma once

#include "app/commands.h"
#include "app/flags.h"

namespace caseledger::tools {

// The tools speak the product's command-line conventions (app/flags.h).
using app::Args;
using app::Failure;
using app::Flags;
using app::UsageError;

int RunBenchAppend(const app::Args& args);   // bench_append.cc
int RunBenchRebuild(const app::Args& args);  // bench_rebuild.cc
int RunBenchFold(const app::Args& args);     // bench_fold.cc
int RunBenchLag(const app::Args& args);      // bench_lag.cc
int RunBenchRelay(const app::Args& args);    // bench_relay.cc
int RunLoadgen(const app::Args& args);       // loadgen_http.cc
// loadgen --sink store|import (RunLoadgen hands those over here).
int RunLoadgenStore(const app::Args& args);  // loadgen_store.cc
int RunDemo(const app::Args& args);          // demo.cc

}  // namespace caseledger::tools

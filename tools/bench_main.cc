// caseledger-bench: the benchmarks behind docs/benchmarks.md (ops/bench runs them all), an
// executable apart from the product's, over the workload library (workload/).
#include "app/command_table.h"
#include "tools/tools.h"

namespace caseledger::tools {
namespace {

constexpr app::FlagSpec kBenchDir{"data", "DIR", "where the throwaway stores go ($TMPDIR, else /tmp)"};
constexpr app::FlagSpec kFormatTable = app::kFormatTableFlag;

app::Program MakeProgram() {
  app::Program program{"caseledger-bench", "benchmarks of the caseledger store, views and relay",
                       "Each command builds throwaway stores (or reads one loaded before by "
                       "caseledger-loadgen --sink store) and prints its figures; docs/benchmarks.md "
                       "says how they are read and ops/bench runs them all.",
                       "", {}};
  using app::FlagSpec;
  program.commands = {
      {"append",
       "durable append throughput and latency through the store API",
       {"[--seconds S] [--concurrency 1,16,64] [--runs N] [--data DIR] [--format table|tsv]"},
       {{"seconds", "S", "seconds per run (5)"},
        {"concurrency", "N[,N...]", "appender threads per level (1,16,64)"},
        {"runs", "N", "runs per level, each on a fresh store; medians are printed (3)"},
        kBenchDir, kFormatTable},
       "Prints, per level, the median rate, p50/p99 latency, bytes per event, the mean group "
       "commit and WAL sync, and the sync ceiling (appenders / mean sync).",
       RunBenchAppend},
      {"rebuild",
       "rebuild every view from scratch beside a raw scan of the same log",
       {"[--scale N] [--from D] [--to D] [--runs N] [--store DIR/store] [--compare] [--format table|tsv]"},
       {{"scale", "N", "the demo workload at 1:N (100)"},
        {"from", "DATE", "first day of the workload (2020-10-01)"},
        {"to", "DATE", "last day of the workload (2020-12-31)"},
        {"runs", "N", "rebuilds; the median is printed (3)"},
        {"store", "DIR", "a store loaded before (caseledger-loadgen --sink store) instead of a generated one; opened read-write: give it a copy"},
        {"batch", "N", "events per views batch (2^17)"},
        {"until", "N", "rebuild the first N events only"},
        {"person-cache", "N", "person records kept in memory (0: all)"},
        {"compare", nullptr, "set the region view beside the scaled DPC bulletin of --from/--to/--scale"},
        {"sequential", nullptr, "read the log on the applying thread (no read-ahead)"},
        {"partitions", "N", "person partitions of the views pipeline (4; 0: the sequential runner)"},
        {"threads", "N", "threads of the views pipeline (0: one per core)"},
        {"views-write-buffer", "MIB", "the views database's memtable size (64)"},
        {"readers", "N", "threads that read the log ahead (2; 1: a single reader)"},
        kBenchDir, kFormatTable},
       "",
       RunBenchRebuild},
      {"fold",
       "the person fold alone: CPU per person event and bytes per stored record",
       {"--store DIR/store [--runs N] [--until N] [--order log|person] [--keep all|none] [--format table|tsv]"},
       {{"store", "DIR", "a store loaded before (caseledger-loadgen --sink store|import); opened read-write: give it a copy"},
        {"runs", "N", "folds of every person event; the median is printed (3)"},
        {"until", "N", "the person events among the first N events only"},
        {"order", "log|person", "the log's order, or grouped by person, each person's in log order (log)"},
        {"keep", "all|none", "the record before each event kept (copied on write) or none (all)"},
        kFormatTable},
       "The events are read and decoded before any timing; each run folds them through a fresh "
       "person directory as the views pipeline does, on one thread.",
       RunBenchFold},
      {"lag",
       "projection lag while commands flow at a constant rate",
       {"[--rate 20000] [--seconds 10] [--appenders 64] [--format table|tsv]"},
       {{"rate", "N", "events per second offered, open loop (20000)"},
        {"seconds", "S", "measured seconds (10)"},
        {"warmup", "S", "seconds before measuring (1)"},
        {"appenders", "N", "appender threads (64)"},
        kBenchDir, kFormatTable},
       "The lag of an event runs from the group commit that made it durable to the publication "
       "of the views batch that applied it.",
       RunBenchLag},
      {"relay",
       "NATS relay throughput and commit-to-replica-view lag",
       {"--nats URL[,URL...] [--replicas 1,3] [--scale N] [--rate R] [--seconds S] [--format table|tsv]"},
       {{"nats", "URL[,URL...]", "a throwaway NATS server or cluster with JetStream (required)"},
        {"replicas", "N[,N...]", "stream replica counts to measure (1,3)"},
        {"scale", "N", "the demo workload at 1:N (100)"},
        {"from", "DATE", "first day of the workload (2020-10-01)"},
        {"to", "DATE", "last day of the workload (2020-10-31)"},
        {"rate", "N", "events per second re-appended for the lag (1000)"},
        {"seconds", "S", "seconds of lag measurement (5)"},
        kBenchDir, kFormatTable},
       "Leaves its streams behind: give it a throwaway server (ops/bench does).",
       RunBenchRelay},
  };
  return program;
}

}  // namespace
}  // namespace caseledger::tools

int main(int argc, char** argv) { return caseledger::app::RunProgram(caseledger::tools::MakeProgram(), argc, argv); }

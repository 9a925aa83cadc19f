// Command-line names of catalog entries, resolved once for every subcommand that takes them.
#pragma once

#include <string>

#include "hardware/gpu.h"
#include "workload/model_card.h"

namespace firstwall::cli {

// Usage error for `option` (reported as option: message, exit status 2).
[[noreturn]] void BadOption(const std::string& option, const std::string& message,
                            const std::string& hint = {});

// --gpu NAME (a catalog GPU), --model NAME|FILE (a catalog model or a model card YAML file), and
// --dtype NAME, read as the scenario key `key` ("workloads[].dtype": the data types that key
// accepts; auto: the card's default, bf16 where it has it, else fp16) and one that `gpu` has
// tensor throughput for, else a usage error naming the card's file.
hardware::GpuSpec GpuArg(const std::string& name);
// `option`: the option messages name (--model; `infer --speculative draft:NAME` names its own).
workload::ModelCard ModelArg(const std::string& name_or_file,
                             const std::string& option = "--model");
hardware::DataType DtypeArg(const std::string& name, const hardware::GpuSpec& gpu,
                            std::string_view key);

}  // namespace firstwall::cli

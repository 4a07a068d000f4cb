// Wiring of the Postfix mode (--mta=postfix) from the flags, kept out of main.cc.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "app/log_pipeline.h"
#include "queue/queue_collector.h"

namespace mailrelay {

// Adds the Postfix source (--postfix.journal, else the --postfix.log file, log label
// "postfix") to the pipeline. Returns what is read, for the startup log line.
std::string AddPostfixLogs(const Config& config, const FileTailer::Options& tail_options,
                           LogPipeline* pipeline);

// postqueue -j (--postfix.postqueue-binary, else autodetected).
std::shared_ptr<QueueCollector> MakePostfixQueue(const Config& config);

}  // namespace mailrelay

#include "app/postfix_setup.h"

#include "common/logging.h"
#include "queue/queue_factory.h"

namespace mailrelay {

std::string AddPostfixLogs(const Config& config, const FileTailer::Options& tail_options,
                           LogPipeline* pipeline) {
  PostfixFormatOptions options;
  options.correlation.max_entries = config.postfix_correlation_max_entries;
  options.correlation.ttl_seconds =
      static_cast<std::int64_t>(config.postfix_correlation_ttl_seconds);
  pipeline->SetPostfixOptions(options);
  if (config.postfix_journal) {
    JournalReader::Options journal;
    journal.path = config.postfix_journal_path;
    journal.cursor_file = config.postfix_journal_cursor_file;
    if (journal.cursor_file.empty() && !config.state_file.empty() && !config.oneshot) {
      journal.cursor_file = config.state_file + ".postfix-journal-cursor";
    }
    if (config.oneshot) journal.cursor_file.clear();
    journal.start_at_end = tail_options.start_at_end;
    journal.follow = !config.oneshot;
    std::string what = journal.path.empty() ? "journal" : "journal:" + journal.path;
    pipeline->AddJournal("postfix", std::move(journal));
    return what;
  }
  std::string path = config.postfix_log.empty() ? DetectPostfixLog() : config.postfix_log;
  pipeline->AddLog("postfix", path, LogRole::kPostfix, tail_options);
  return path;
}

std::shared_ptr<QueueCollector> MakePostfixQueue(const Config& config) {
  std::string binary = config.postfix_postqueue_binary.empty() ? DetectPostqueueBinary()
                                                               : config.postfix_postqueue_binary;
  Log(LogLevel::kInfo, "reading the Postfix queue with postqueue -j", {{"binary", binary}});
  return MakePostfixQueueCollector(binary, config.queue_command_timeout_seconds,
                                   config.queue_top_k);
}

}  // namespace mailrelay

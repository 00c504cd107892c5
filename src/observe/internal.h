// Helpers shared by the observe reports.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/json_writer.h"
#include "observe/observe.h"

namespace sw::observe {

/// Message is one turn of a recorded request, whatever the wire format was.
struct Message {
  std::string role;
  std::string text;
};

/// ExtractMessages reads the turns of a recorded request body: OpenAI chat and Responses,
/// Anthropic Messages, Gemini, Ollama and the provider-neutral form all have a shape it knows.
std::vector<Message> ExtractMessages(const std::string& request_body);

/// ReplyText is the answer text of a recorded reply blob ("" when it is not one).
std::string ReplyText(const std::string& reply_json);

/// Clip shortens s to at most max bytes (on a UTF-8 boundary), saying how much was cut.
std::string Clip(const std::string& s, size_t max);

/// RunOrError loads a run record, NotFound naming the id when absent.
Result<store::RunRecord> RunOrError(store::Store* st, const std::string& run_id);


/// FinalOutputs maps node id to the output blob of its last node_succeeded (highest
/// iteration), in the order nodes first succeeded.
Result<std::vector<std::pair<std::string, std::string>>> FinalOutputs(store::Store* st, const std::string& run_id);


/// WriteRun writes the run record's summary fields as an object (shared by the reports).
void WriteRun(JsonWriter& w, const store::RunRecord& r);
/// WriteNodeRun writes one node_runs row (node x iteration x item x attempt) as an object.
void WriteNodeRun(JsonWriter& w, const store::NodeRunRecord& x);
/// WriteCallHead opens an object for a model call and writes what every view shows of it
/// (ids, provider, model, status, timing); the caller adds the rest and closes it.
void WriteCallHead(JsonWriter& w, const store::LlmCallRecord& c);
/// WriteBucket writes one spend bucket as an object.
void WriteBucket(JsonWriter& w, const Bucket& b);

}  // namespace sw::observe

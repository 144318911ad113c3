// ReconcilerFixture is what a controller's reconcile runs against in a unit test: an apiserver
// faked at the transport (it accepts every write and answers with the object sent, answers 500
// to the requests a test chooses, and records everything), informers the test fills by hand
// (feed), a FakeClock, a fake certificate issuer, fixed dataplane verdicts, and an EventRecorder
// writing through a transport of its own so the Events can be read back. A reconciler test
// derives from it and adds its informers and the reconciler under test.
#pragma once

#include <atomic>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/event_recorder.h"
#include "kube/fake_clock.h"
#include "kube/fake_transport.h"
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "operator/testing/fake_certificate_issuer.h"
#include "operator/testing/fixed_dataplane_status.h"

namespace meshgate::op {

class ReconcilerFixture : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  ReconcilerFixture() {
    transport_->setFallback(answering(""));
    eventTransport_->setFallback(answering(""));
  }
  ~ReconcilerFixture() override { events_.stop(); }

  // Replaces what `informer` holds by `objects`, as a relist would.
  static void feed(kube::Informer& informer, const std::vector<json>& objects) {
    std::vector<kube::StoreEntry> entries;
    for (const auto& object : objects)
      entries.push_back({kube::keyOf(object), std::make_shared<const json>(object)});
    informer.onReplace(std::move(entries), "1");
  }

  // Adds `objects` to what `informer` holds, replacing those of the same key: the cache catching
  // up with what was applied.
  static void upsert(kube::Informer& informer, const std::vector<json>& objects) {
    std::map<std::string, json> byKey;
    for (const auto& cached : informer.store().list())
      byKey[kube::keyOf(*cached)] = *cached;
    for (const auto& object : objects)
      byKey[kube::keyOf(object)] = object;
    std::vector<json> all;
    for (auto& [key, object] : byKey)
      all.push_back(std::move(object));
    feed(informer, all);
  }

  // The cache catching up with a status write: the object at `key` gets the status of `applied`
  // (the body of the status apply).
  static void storeStatus(kube::Informer& informer, const std::string& key, const json& applied) {
    json object = *informer.store().get(key);
    object["status"] = applied.at("status");
    upsert(informer, {object});
  }

  // From now on the apiserver answers 500 to every request whose target contains `part`
  // (e.g. "/endpointslices/"), and accepts the others.
  void failRequestsTo(std::string part) { transport_->setFallback(answering(std::move(part))); }

  // An apiserver that accepts every request — answering with the object sent and a new
  // resourceVersion, as a successful apply does — except those whose target contains `failing`
  // (when not empty): 500.
  static kube::FakeTransport::Handler answering(std::string failing) {
    auto version = std::make_shared<std::atomic<int>>(1000);
    return [failing = std::move(failing),
            version](const kube::HttpRequest& request) -> kube::Result<kube::HttpResponse> {
      kube::HttpResponse response;
      if (!failing.empty() && request.target.find(failing) != std::string::npos) {
        response.status = 500;
        response.body = R"({"kind":"Status","status":"Failure","reason":"InternalError",)"
                        R"("message":"etcdserver: request timed out","code":500})";
        return response;
      }
      response.status = request.method == "POST" ? 201 : 200;
      json object = request.body.empty() ? json::object() : json::parse(request.body);
      if (object.is_object() && object.contains("metadata"))
        object["metadata"]["resourceVersion"] = std::to_string(++*version);
      response.body = object.dump();
      return response;
    };
  }

  // The requests the apiserver received from the reconciler; pass sent().size() as `from` to
  // look at one reconcile only.
  std::vector<kube::HttpRequest> sent(size_t from = 0) const {
    auto all = transport_->sent();
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(from, all.size())), all.end()};
  }

  // PATCH (each server-side apply), POST, PUT and DELETE requests among `requests`.
  static size_t writesIn(const std::vector<kube::HttpRequest>& requests) {
    size_t writes = 0;
    for (const auto& request : requests) {
      if (request.method == "PATCH" || request.method == "POST" || request.method == "PUT" ||
          request.method == "DELETE")
        writes++;
    }
    return writes;
  }

  // The bodies of the applies among `requests` whose target contains `part` (e.g.
  // "/endpointslices/", "/meshservices/web/status"), in order.
  static std::vector<json> appliedTo(const std::vector<kube::HttpRequest>& requests,
                                     std::string_view part) {
    std::vector<json> out;
    for (const auto& request : requests) {
      if (request.method == "PATCH" && request.target.find(part) != std::string::npos)
        out.push_back(json::parse(request.body));
    }
    return out;
  }

  // The condition of `type` in a status, or null.
  static json condition(const json& status, std::string_view type) {
    for (const auto& c : status.value("conditions", json::array()))
      if (c.at("type") == type) return c;
    return nullptr;
  }

  // Every Event recorded so far, in order. Stops the recorder: call it once, at the end.
  std::vector<json> eventsSent() {
    events_.stop();
    std::vector<json> out;
    for (const auto& request : eventTransport_->sent()) {
      if (request.method == "POST") out.push_back(json::parse(request.body));
    }
    return out;
  }

  // The Events of `type` ("Normal", "Warning") and `reason` among eventsSent().
  static std::vector<json> eventsOf(const std::vector<json>& events, std::string_view type,
                                    std::string_view reason) {
    std::vector<json> out;
    for (const auto& event : events) {
      if (event.value("type", "") == type && event.value("reason", "") == reason)
        out.push_back(event);
    }
    return out;
  }

  static std::unique_ptr<kube::RestClient> clientOf(std::shared_ptr<kube::FakeTransport> t) {
    kube::RestClientOptions options;
    options.qps = 0;
    options.sleep = [](std::chrono::milliseconds) {};
    return std::make_unique<kube::RestClient>(std::move(t), options);
  }

  // Every record() its own Event (no series), so a test counts what the reconciler recorded.
  static kube::EventRecorderOptions unaggregated() {
    kube::EventRecorderOptions options;
    options.aggregationWindow = std::chrono::milliseconds(0);
    return options;
  }

  std::shared_ptr<kube::FakeTransport> transport_ = std::make_shared<kube::FakeTransport>();
  std::unique_ptr<kube::RestClient> client_ = clientOf(transport_);
  kube::FakeClock clock_;
  FakeCertificateIssuer issuer_;
  FixedDataplaneStatus dataplanes_;

  std::shared_ptr<kube::FakeTransport> eventTransport_ = std::make_shared<kube::FakeTransport>();
  std::unique_ptr<kube::RestClient> eventClient_ = clientOf(eventTransport_);
  // The recorder's sender thread waits on its clock (series updates, the stop() flush): a real
  // one, so that stop() returns without the test advancing time.
  kube::SystemClock eventClock_;
  kube::EventRecorder events_{*eventClient_, eventClock_, unaggregated()};
};

}  // namespace meshgate::op

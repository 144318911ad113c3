// meshgatectl render; see cli/render_command.h.
#include "cli/render_command.h"

#include <algorithm>
#include <ostream>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "api/api_route_codec.h"
#include "api/condition.h"
#include "api/field_error.h"
#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"
#include "api/proxy_config_codec.h"
#include "cli/manifest_reader.h"
#include "cli/offline_cluster.h"
#include "cli/render_inputs.h"
#include "cli/yaml_writer.h"
#include "operator/api_route_ingress.h"
#include "operator/api_route_reconciler.h"
#include "operator/auth_secrets.h"
#include "operator/desired_state.h"
#include "operator/gateway_config_builder.h"
#include "operator/mesh_service_children.h"
#include "operator/route_admission.h"
#include "operator/route_admission_conditions.h"

namespace meshgate::cli {

namespace {

namespace status = api::condition_status;
namespace type = api::condition_type;
namespace reason = api::condition_reason;

struct RenderedDocument {
  std::string kind;
  std::string ns;
  std::string name;
  std::vector<std::string> comments;  // printed as "# …" above the document
  nlohmann::json object;

  bool operator<(const RenderedDocument& other) const {
    return std::tie(kind, ns, name) < std::tie(other.kind, other.ns, other.name);
  }
};

struct Rendering {
  std::vector<RenderedDocument> objects;    // what the operator applies
  std::vector<RenderedDocument> statuses;   // what it writes in status
  std::vector<RenderedDocument> snapshots;  // what each gateway class receives
  std::vector<std::string> problems;        // for err; each makes the exit code 1
  std::vector<std::string> warnings;        // for err only
};

std::int64_t generationOf(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  const auto generation = metadata.find("generation");
  return generation != metadata.end() && generation->is_number_integer()
             ? generation->get<std::int64_t>()
             : 0;
}

std::string describe(const InputObject& input) {
  return input.source + ": " + input.object.value("kind", "") + "/" + input.key;
}

// A child as the operator applies it. Offline an owner has no uid unless its manifest carries
// one (exported from a cluster, or the output of a server-side dry run); without it the
// ownerReference leaves uid out — the apiserver assigns it when the owner is created — rather
// than show an empty one. Then the applied-hash annotation ChildApplier stamps
// (desired_state.h), equal to the operator's whenever the uid is known.
RenderedDocument childDocument(nlohmann::json child) {
  auto& references = child["metadata"]["ownerReferences"];
  for (auto& reference : references) {
    if (reference.value("uid", "").empty()) reference.erase("uid");
  }
  op::stampAppliedHash(child);
  const auto& metadata = child["metadata"];
  return {child.value("kind", ""),
          metadata.value("namespace", ""),
          metadata.value("name", ""),
          {},
          std::move(child)};
}

api::Condition condition(std::string_view conditionType, const op::ConditionVerdict& verdict,
                         std::int64_t generation) {
  return {.type = std::string(conditionType),
          .status = std::string(verdict.status),
          .reason = std::string(verdict.reason),
          .message = verdict.message,
          .observedGeneration = generation};
}

// The object's identity and its status. lastTransitionTime is left out: offline there is no
// transition, and a timestamp would make equal inputs render differently.
RenderedDocument statusDocument(const InputObject& input, nlohmann::json statusJson) {
  if (auto conditions = statusJson.find("conditions"); conditions != statusJson.end()) {
    for (auto& entry : *conditions)
      entry.erase("lastTransitionTime");
  }
  const auto& metadata = input.object.at("metadata");
  const std::string kind = input.object.at("kind");
  const std::string ns = metadata.at("namespace");
  const std::string name = metadata.at("name");
  nlohmann::json object = {{"apiVersion", input.object.at("apiVersion")},
                           {"kind", kind},
                           {"metadata", {{"name", name}, {"namespace", ns}}},
                           {"status", std::move(statusJson)}};
  return {kind, ns, name, {}, std::move(object)};
}

void noteProblem(const InputObject& input, const api::Condition& c, std::vector<std::string>& to) {
  to.push_back(describe(input) + ": " + c.type + "=" + c.status + " " + c.reason + ": " +
               c.message);
}

void renderMeshService(const InputObject& input, OfflineCluster& cluster, Rendering& out) {
  const std::int64_t generation = generationOf(input.object);
  auto decoded = api::decodeMeshService(input.object);
  api::ErrorList errors = decoded.errors;
  if (decoded.ok()) errors = api::validateMeshService(*decoded.object);
  api::MeshService shown;
  shown.status.observedGeneration = generation;
  auto& conditions = shown.status.conditions;
  if (!errors.empty()) {
    conditions.push_back(condition(
        type::kAccepted, {status::kFalse, reason::kInvalid, api::joinErrors(errors)}, generation));
    noteProblem(input, conditions.back(), out.problems);
  } else {
    const api::MeshService& ms = *decoded.object;
    out.objects.push_back(childDocument(op::desiredService(ms)));
    for (auto& slice : op::desiredEndpointSlices(ms)) {
      cluster.addEndpointSlice(slice);
      out.objects.push_back(childDocument(std::move(slice)));
    }
    conditions.push_back(
        condition(type::kAccepted, {status::kTrue, reason::kAccepted, ""}, generation));
    conditions.push_back(
        condition(type::kResolvedRefs, {status::kTrue, reason::kResolvedRefs, ""}, generation));
  }
  out.statuses.push_back(statusDocument(input, api::encodeMeshService(shown)["status"]));
}

// What the route needs from Secrets, which render does not read.
std::vector<std::string> secretComments(const api::ApiRoute& route, const op::IngressPlan& plan) {
  std::vector<std::string> lines;
  const std::string& ns = route.metadata.namespace_;
  if (!plan.tlsSecretName.empty()) {
    lines.push_back("  Secret " + ns + "/" + plan.tlsSecretName +
                    (route.spec.tls->secretName ? " (TLS certificate)"
                                                : " (TLS certificate the operator issues)"));
  }
  for (const auto& ref : op::authSecretRefs(route))
    lines.push_back("  Secret " + ns + "/" + ref.name + ", key " + ref.key + " (auth)");
  if (!lines.empty()) {
    lines.insert(lines.begin(),
                 "Secrets are not inputs: ResolvedRefs does not check them. This route needs:");
  }
  return lines;
}

void renderApiRoute(const InputObject& input, const OfflineCluster& cluster, Rendering& out) {
  const std::int64_t generation = generationOf(input.object);
  const auto admission = op::admitRoute(input.object, cluster.admissionCaches());
  api::ApiRoute shown;
  shown.status.observedGeneration = generation;
  auto& conditions = shown.status.conditions;
  conditions.push_back(condition(type::kAccepted, op::acceptedCondition(admission), generation));
  if (conditions.back().status != status::kTrue)
    noteProblem(input, conditions.back(), out.problems);
  std::vector<std::string> comments;
  if (admission) {
    // Secrets are not inputs: only the backends are judged.
    conditions.push_back(
        condition(type::kResolvedRefs, op::resolvedRefsCondition(*admission, {}), generation));
    if (conditions.back().status != status::kTrue) {
      noteProblem(input, conditions.back(), out.warnings);
    }
    const api::ApiRoute& route = admission->route;
    op::IngressPlan plan = admission->plan;
    if (route.spec.tls && !plan.hosts.empty()) {
      plan.tlsSecretName =
          route.spec.tls->secretName.value_or(op::hostCertificateSecretName(route.metadata.name));
    }
    if (auto ingress = op::desiredIngress(route, plan)) {
      out.objects.push_back(childDocument(std::move(*ingress)));
      shown.status.ingress = route.metadata.name;
    }
    comments = secretComments(route, plan);
  }
  RenderedDocument document = statusDocument(input, api::encodeApiRoute(shown)["status"]);
  document.comments = std::move(comments);
  out.statuses.push_back(std::move(document));
}

std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + item;
  return out;
}

void renderSnapshot(const std::string& ingressClass, const OfflineCluster& cluster,
                    Rendering& out) {
  const op::GatewayCaches caches = cluster.gatewayCaches();
  const op::GatewayRoutes routes = op::buildGatewayRoutes(caches, ingressClass);
  const op::GatewaySnapshot snapshot =
      op::assembleGatewaySnapshot(routes, caches, op::GatewayBuildOptions{});
  RenderedDocument document{"", "", ingressClass, {}, {}};
  document.comments.push_back("The snapshot a gateway of ingress class " + ingressClass +
                              " receives (ProxyConfig, docs/PROXY_CONFIG.md).");
  std::vector<std::string> needed;
  for (const auto& key : routes.secrets)
    needed.push_back("  Secret " + key + " (TLS certificate of the https listener)");
  for (const auto& [ns, names] : routes.authSecrets) {
    for (const auto& [name, keys] : names)
      needed.push_back("  Secret " + ns + "/" + name + ", keys " + joined(keys) + " (auth)");
  }
  if (!needed.empty()) {
    document.comments.push_back(
        "Secrets are not inputs, so this snapshot lacks what the gateway gets from these:");
    document.comments.insert(document.comments.end(), needed.begin(), needed.end());
  }
  document.object = api::encodeProxyConfig(snapshot.config, api::SecretEncoding::kRedact);
  out.snapshots.push_back(std::move(document));
}

void printSection(const std::string& heading, std::vector<RenderedDocument>& documents,
                  std::ostream& out) {
  std::sort(documents.begin(), documents.end());
  out << "# " << heading << "\n";
  for (const auto& document : documents) {
    out << "---\n";
    for (const auto& line : document.comments)
      out << "# " << line << "\n";
    out << toYaml(document.object);
  }
}

}  // namespace

int runRender(const RenderOptions& options, std::istream& in, std::ostream& out,
              std::ostream& err) {
  ManifestReadResult read = readManifests(options.paths, in);
  if (!read.errors.empty()) {
    for (const auto& error : read.errors)
      err << error << '\n';
    return kRenderInputError;
  }
  RenderInputs inputs = selectRenderInputs(read.documents, options.defaultNamespace);
  for (const auto& note : inputs.notes)
    err << note << '\n';

  OfflineCluster cluster;
  for (const auto& input : inputs.namespaces)
    cluster.addNamespace(input.object);
  for (const auto& input : inputs.meshServices)
    cluster.addMeshService(input.object);
  for (const auto& input : inputs.apiRoutes)
    cluster.addApiRoute(input.object);

  Rendering rendering;
  rendering.problems = inputs.errors;
  for (const auto& input : inputs.meshServices)
    renderMeshService(input, cluster, rendering);
  for (const auto& input : inputs.apiRoutes)
    renderApiRoute(input, cluster, rendering);
  std::set<std::string> ingressClasses;
  for (const auto& input : inputs.apiRoutes)
    ingressClasses.insert(op::ingressClassOf(input.object));
  for (const auto& ingressClass : ingressClasses)
    renderSnapshot(ingressClass, cluster, rendering);

  out << "# meshgatectl render: what meshgate-operator would write for these manifests. Owner\n"
         "# references carry the owner's uid only when its manifest has one.\n";
  if (options.objects) {
    printSection("Objects the operator applies (server-side apply, field manager meshgate).",
                 rendering.objects, out);
  }
  if (options.status) {
    printSection(
        "Status the operator writes: Accepted and ResolvedRefs (the other conditions need a "
        "cluster).",
        rendering.statuses, out);
  }
  if (options.snapshots) {
    printSection("Gateway snapshots, one per ingress class.", rendering.snapshots, out);
  }

  for (const auto& problem : rendering.problems)
    err << problem << '\n';
  for (const auto& warning : rendering.warnings)
    err << "warning: " << warning << '\n';
  if (!rendering.problems.empty()) {
    err << rendering.problems.size() << " of "
        << inputs.meshServices.size() + inputs.apiRoutes.size() + inputs.errors.size()
        << " objects not accepted\n";
    return kRenderNotAccepted;
  }
  return kRenderAllAccepted;
}

}  // namespace meshgate::cli

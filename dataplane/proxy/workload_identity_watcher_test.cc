// Tests of WorkloadIdentityWatcher over a directory written as the kubelet writes a Secret volume
// (testing/secret_volume.h): a valid set is adopted and counted; each kind of bad set (key of
// another certificate, leaf of another CA, expired leaf, undecodable PEM, missing key) is refused
// with its reason while the last good identity stays, and counted once however often it is read; a
// "..data" swap is picked up by the watch alone, a directory that appears later by the poll; files
// removed drop the identity; a set refused as not yet valid is adopted once it is; an identity that
// expires in place stays held.
#include "dataplane/proxy/workload_identity_watcher.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/testing/eventually.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/secret_volume.h"

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::must;
using testing::PemPair;
using testing::SecretVolume;
using testing::StreamCertificates;

constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";

std::string serialOf(const PemPair& pair) {
  return must(pki::Certificate::fromPem(pair.certificatePem)).serialHex();
}

// A test's mesh PKI and the clock its watcher reads, which the test moves.
class IdentityKit {
 public:
  PemPair issue(std::chrono::seconds lifetime = 24h) const {
    return mesh_.issue(pki::CertificateTemplate::forWorkload(kSpiffeId, lifetime));
  }
  // The identity Secret's content for `pair`.
  std::map<std::string, std::string> secret(const PemPair& pair) const {
    return {{"tls.crt", pair.certificatePem}, {"tls.key", pair.keyPem}, {"ca.crt", mesh_.caPem()}};
  }
  void moveClock(std::chrono::seconds fromNow) {
    skew_ = std::chrono::duration_cast<std::chrono::system_clock::duration>(fromNow);
  }
  WallClock clock() {
    return [this] { return std::chrono::system_clock::now() + skew_.load(); };
  }

 private:
  StreamCertificates mesh_;
  std::atomic<std::chrono::system_clock::duration> skew_{std::chrono::system_clock::duration{0}};
};

class WorkloadIdentityWatcherTest : public ::testing::Test {
 protected:
  WorkloadIdentityWatcherTest()
      : reloads_(registry_.counter("identity_reloads_total", "test", {"result"})) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-identity-watch-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
  }
  ~WorkloadIdentityWatcherTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::unique_ptr<WorkloadIdentityWatcher> watcher(const std::string& directory) {
    return std::make_unique<WorkloadIdentityWatcher>(directory, kit_.clock(), &reloads_);
  }
  double reloads(const std::string& result) { return reloads_.with({result}).value(); }
  static std::string serialHeld(const WorkloadIdentityWatcher& watcher) {
    const auto identity = watcher.status().identity;
    return identity ? identity->serialHex : std::string();
  }

  std::string root_;
  IdentityKit kit_;
  metrics::Registry registry_;
  metrics::CounterFamily& reloads_;
};

TEST_F(WorkloadIdentityWatcherTest, ValidSetIsAdoptedAndCounted) {
  SecretVolume volume(root_ + "/identity");
  const PemPair pair = kit_.issue();
  volume.update(kit_.secret(pair));
  auto identity = watcher(volume.path());

  identity->reload("test");

  const WorkloadIdentityStatus status = identity->status();
  ASSERT_TRUE(status.identity);
  EXPECT_EQ(status.identity->spiffeId, kSpiffeId);
  EXPECT_EQ(status.identity->serialHex, serialOf(pair));
  EXPECT_TRUE(status.filesPresent);
  EXPECT_EQ(status.lastRejected, "");
  EXPECT_EQ(reloads("ok"), 1);
  EXPECT_EQ(reloads("rejected"), 0);

  identity->reload("test");  // the same files again: nothing new
  EXPECT_EQ(reloads("ok"), 1);
}

struct BadSet {
  std::string name;
  // The identity Secret's new content.
  std::function<std::map<std::string, std::string>(IdentityKit&)> content;
  std::string reason;
};

class RefusedSetTest : public WorkloadIdentityWatcherTest,
                       public ::testing::WithParamInterface<BadSet> {};

TEST_P(RefusedSetTest, IsRefusedWithItsReasonWhileTheLastGoodStays) {
  SecretVolume volume(root_ + "/identity");
  const PemPair good = kit_.issue();
  volume.update(kit_.secret(good));
  auto identity = watcher(volume.path());
  identity->reload("test");
  ASSERT_EQ(serialHeld(*identity), serialOf(good));

  volume.update(GetParam().content(kit_));
  identity->reload("test");

  EXPECT_EQ(serialHeld(*identity), serialOf(good));
  EXPECT_THAT(identity->status().lastRejected, HasSubstr(GetParam().reason));
  EXPECT_EQ(reloads("rejected"), 1);

  identity->reload("poll");  // the same bad files again: refused, not counted again
  EXPECT_EQ(reloads("rejected"), 1);
  EXPECT_EQ(serialHeld(*identity), serialOf(good));

  volume.update(kit_.secret(good));  // rolled back: nothing refused any more
  identity->reload("test");
  EXPECT_EQ(identity->status().lastRejected, "");
  EXPECT_EQ(reloads("ok"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    BadSets, RefusedSetTest,
    ::testing::Values(BadSet{"KeyOfAnotherCertificate",
                             [](IdentityKit& kit) {
                               auto content = kit.secret(kit.issue());
                               content["tls.key"] = kit.issue().keyPem;
                               return content;
                             },
                             "/tls.key: the key does not belong to the first certificate"},
                      BadSet{"LeafOfAnotherCa",
                             [](IdentityKit& kit) {
                               const StreamCertificates foreign;
                               return kit.secret(
                                   foreign.issue(pki::CertificateTemplate::forWorkload(kSpiffeId)));
                             },
                             "does not chain to a root of"},
                      BadSet{"ExpiredLeaf",
                             [](IdentityKit& kit) {
                               // Two hours on, the good identity (24 h) is still valid and this one
                               // (1 h) not.
                               auto content = kit.secret(kit.issue(1h));
                               kit.moveClock(2h);
                               return content;
                             },
                             "expired at"},
                      BadSet{"UndecodablePem",
                             [](IdentityKit& kit) {
                               auto content = kit.secret(kit.issue());
                               content["tls.crt"] = "-----BEGIN CERTIFICATE-----\ngarbage\n";
                               return content;
                             },
                             "/tls.crt: "},
                      BadSet{"MissingKey",
                             [](IdentityKit& kit) {
                               auto content = kit.secret(kit.issue());
                               content.erase("tls.key");
                               return content;
                             },
                             "/tls.key: cannot read"}),
    [](const ::testing::TestParamInfo<BadSet>& info) { return info.param.name; });

TEST_F(WorkloadIdentityWatcherTest, RemovedFilesDropTheIdentity) {
  SecretVolume volume(root_ + "/identity");
  volume.update(kit_.secret(kit_.issue()));
  auto identity = watcher(volume.path());
  identity->reload("test");
  ASSERT_TRUE(identity->status().identity);

  volume.update({});  // the Secret was deleted: the kubelet empties the optional volume
  identity->reload("test");

  const WorkloadIdentityStatus status = identity->status();
  EXPECT_FALSE(status.identity);
  EXPECT_FALSE(status.filesPresent);
  EXPECT_EQ(status.lastRejected, "");
}

TEST_F(WorkloadIdentityWatcherTest, SetRefusedAsNotYetValidIsAdoptedOnceValid) {
  SecretVolume volume(root_ + "/identity");
  const PemPair pair = kit_.issue();
  volume.update(kit_.secret(pair));
  kit_.moveClock(-1h);
  auto identity = watcher(volume.path());

  identity->reload("test");
  EXPECT_FALSE(identity->status().identity);
  EXPECT_TRUE(identity->status().filesPresent);
  EXPECT_THAT(identity->status().lastRejected, HasSubstr("not valid before"));

  kit_.moveClock(0s);
  identity->reload("poll");  // the same files, checked again

  EXPECT_EQ(serialHeld(*identity), serialOf(pair));
  EXPECT_EQ(identity->status().lastRejected, "");
  EXPECT_EQ(reloads("rejected"), 1);
  EXPECT_EQ(reloads("ok"), 1);
}

TEST_F(WorkloadIdentityWatcherTest, IdentityExpiringInPlaceStaysHeld) {
  SecretVolume volume(root_ + "/identity");
  const PemPair pair = kit_.issue(1h);
  volume.update(kit_.secret(pair));
  auto identity = watcher(volume.path());
  identity->reload("test");

  kit_.moveClock(2h);
  identity->reload("poll");

  // Still the identity the sidecar holds (/ready says it expired), not a refused new set.
  EXPECT_EQ(serialHeld(*identity), serialOf(pair));
  EXPECT_EQ(identity->status().lastRejected, "");
  EXPECT_EQ(reloads("rejected"), 0);
}

// Runs an io_context on a thread of its own for the watch; stopped and joined when it goes.
class WatchThread {
 public:
  explicit WatchThread(boost::asio::io_context& context) : context_(context) {
    thread_ = std::thread([this] { context_.run(); });
  }
  ~WatchThread() {
    context_.stop();
    thread_.join();
  }

 private:
  boost::asio::io_context& context_;
  std::thread thread_;
};

TEST_F(WorkloadIdentityWatcherTest, DataSymlinkSwapIsPickedUpByTheWatch) {
  SecretVolume volume(root_ + "/identity");  // empty: the Secret does not exist yet
  boost::asio::io_context context;
  auto identity = watcher(volume.path());
  identity->reload("start");
  identity->watch(context, 1h);  // the poll never runs in this test: only inotify can tell
  WatchThread thread(context);

  const PemPair first = kit_.issue();
  volume.update(kit_.secret(first));
  EXPECT_TRUE(eventually([&] { return serialHeld(*identity) == serialOf(first); }));

  const PemPair renewed = kit_.issue();
  volume.update(kit_.secret(renewed));
  EXPECT_TRUE(eventually([&] { return serialHeld(*identity) == serialOf(renewed); }));
  EXPECT_EQ(reloads("ok"), 2);
}

TEST_F(WorkloadIdentityWatcherTest, DirectoryAppearingLaterIsPickedUpByThePoll) {
  const std::string directory = root_ + "/identity";  // not there when the watch starts
  boost::asio::io_context context;
  auto identity = watcher(directory);
  identity->reload("start");
  identity->watch(context, 20ms);
  WatchThread thread(context);

  SecretVolume volume(directory);
  const PemPair pair = kit_.issue();
  volume.update(kit_.secret(pair));

  EXPECT_TRUE(eventually([&] { return serialHeld(*identity) == serialOf(pair); }));
}

}  // namespace
}  // namespace meshgate::dp

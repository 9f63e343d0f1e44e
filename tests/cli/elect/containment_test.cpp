// The watchdog's view of the system: where cgroup v2 is mounted and where
// we sit in it (hybrid layouts put it at /sys/fs/cgroup/unified), and which
// processes are below a process (a /proc stat line's parent, command names
// with spaces and parentheses included).
#include "elect/containment.hpp"
#include "elect/process_tree.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace rebound::cli::elect;

TEST(Cgroup2Mount, IsFoundInAHybridLayoutBesideTheV1Controllers) {
  const char* mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:7 - cgroup2 cgroup2 rw\n";
  const auto m = find_cgroup2_mount(mountinfo);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m->root, "/");
}

TEST(Cgroup2Mount, UnescapesBlanksAndKeepsAMountedSubtreesRoot) {
  const auto m = find_cgroup2_mount("7 1 0:5 /user.slice /mnt/my\\040cg rw - cgroup2 none rw\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/mnt/my cg");
  EXPECT_EQ(m->root, "/user.slice");
}

TEST(Cgroup2Mount, IsAbsentWhenOnlyV1IsMounted) {
  EXPECT_FALSE(find_cgroup2_mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"));
  EXPECT_FALSE(find_cgroup2_mount(""));
}

TEST(UnifiedCgroupPath, IsTheZeroLineAmongV1Lines) {
  EXPECT_EQ(unified_cgroup_path("4:memory:/process_api/9668\n1:cpu:/\n0::/\n"), "/");
  EXPECT_EQ(unified_cgroup_path("0::/system.slice/x.service\n"), "/system.slice/x.service");
  EXPECT_FALSE(unified_cgroup_path("4:memory:/a\n"));
}

TEST(ProcessTree, ReadsTheParentPastACommandNameWithSpacesAndParentheses) {
  EXPECT_EQ(parent_from_stat("1234 (sleep) S 99 1234 1234 0 -1"), 99);
  EXPECT_EQ(parent_from_stat("1234 (a b) c) R 7 1 1"), 7);
  EXPECT_EQ(parent_from_stat("garbage"), -1);
}

TEST(ProcessTree, FindsGrandchildrenButNotSiblingsOrTheRoot) {
  const std::vector<std::pair<pid_t, pid_t>> pairs{{10, 1}, {11, 10}, {12, 11}, {13, 1}, {14, 12}, {15, 13}};
  auto d = descendants_in(10, pairs);
  std::sort(d.begin(), d.end());
  EXPECT_EQ(d, (std::vector<pid_t>{11, 12, 14}));
  EXPECT_TRUE(descendants_in(14, pairs).empty());
}

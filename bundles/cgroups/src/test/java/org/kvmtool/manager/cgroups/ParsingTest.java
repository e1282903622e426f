package org.kvmtool.manager.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kvmtool.manager.api.ErrorCode;
import org.kvmtool.manager.api.KvmtoolException;

/** The pure pieces: mountinfo, /proc/self/cgroup, stat lines, names, the shares/weight map. */
class ParsingTest {

    @Test
    void mountinfoKeepsOnlyCgroupMountsWithTheirControllers() {
        List<CgroupMount> mounts = CgroupMount.parse(String.join("\n",
                "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
                "31 27 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct",
                "40 27 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
                "41 27 0:38 /docker/ab /sys/fs/cgroup/unified ro,relatime - cgroup2 cgroup2 rw,nsdelegate",
                "42 27 0:39 / /mnt/with\\040space rw - cgroup cgroup rw,memory",
                "garbage line"));
        assertEquals(4, mounts.size());
        CgroupMount cpu = mounts.get(0);
        assertEquals(Set.of("cpu", "cpuacct"), cpu.controllers());
        assertEquals("/sys/fs/cgroup/cpu,cpuacct", cpu.mountPoint());
        assertEquals("cpu,cpuacct", cpu.selfCgroupKey());
        assertFalse(cpu.v2());
        CgroupMount named = mounts.get(1);
        assertEquals(Set.of(), named.controllers());
        assertEquals("systemd", named.name());
        assertEquals("name=systemd", named.selfCgroupKey());
        CgroupMount unified = mounts.get(2);
        assertTrue(unified.v2());
        assertTrue(unified.readOnly());
        assertEquals("/docker/ab", unified.root());
        assertEquals("", unified.selfCgroupKey());
        assertEquals("/mnt/with space", mounts.get(3).mountPoint());
    }

    @Test
    void selfCgroupIsKeyedLikeTheMounts(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("cgroup");
        Files.writeString(file, "9:name=systemd:/\n4:memory:/process_api/a1\n2:cpuacct,cpu:/x\n0::/user.slice/u.scope\n");
        Map<String, String> self = LayoutDetector.selfCgroup(file);
        assertEquals("/", self.get("name=systemd"));
        assertEquals("/process_api/a1", self.get("memory"));
        assertEquals("/x", self.get("cpu,cpuacct"));
        assertEquals("/user.slice/u.scope", self.get(""));
    }

    @Test
    void ownDirFollowsTheMountRoot() {
        Path dir = Path.of("/sys/fs/cgroup/memory");
        assertEquals(dir.resolve("a/b"), LayoutDetector.ownDir(dir, "/", "/a/b"));
        assertEquals(dir, LayoutDetector.ownDir(dir, "/", "/"));
        assertEquals(dir, LayoutDetector.ownDir(dir, "/docker/x", "/docker/x"));
        assertEquals(dir.resolve("sub"), LayoutDetector.ownDir(dir, "/docker/x", "/docker/x/sub"));
        assertNull(LayoutDetector.ownDir(dir, "/docker/x", "/docker/y"));
        assertNull(LayoutDetector.ownDir(dir, "/", "/../outside"));
    }

    @Test
    void statTicksSurviveACommWithSpacesAndParentheses() {
        String stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 17 0 0 20 0 3 0 12345 1000 200";
        assertEquals(267, ProcStats.statTicks(stat));
    }

    @Test
    void keyedFilesAreSearchedForWholeKeys() {
        String stat = "cache 4096\nrss 10\ntotal_cache 2097152\nhierarchical_memory_limit 9\ntotal_rss 1";
        assertEquals(4096, CgroupFs.keyed(stat, "cache", -1));
        assertEquals(2097152, CgroupFs.keyed(stat, "total_cache", -1));
        assertEquals(1, CgroupFs.keyed(stat, "total_rss", -1));
        assertEquals(-1, CgroupFs.keyed(stat, "memory_limit", -1));
        assertEquals(-1, CgroupFs.keyed(stat, "rs", -1));
    }

    @Test
    void weightMapHitsBothEndsAndRoundTrips() {
        assertEquals(1, CpuWeight.toWeight(2));
        assertEquals(10_000, CpuWeight.toWeight(262_144));
        assertEquals(100, CpuWeight.toWeight(1024), "the defaults meet");
        assertEquals(1024, CpuWeight.toShares(100));
        assertEquals(50, CpuWeight.toWeight(512));
        assertEquals(1, CpuWeight.toWeight(0), "below the v1 range clamps");
        assertEquals(10_000, CpuWeight.toWeight(1_000_000), "above the v1 range clamps");
        for (long w = 1; w <= 10_000; w++) {
            assertEquals(w, CpuWeight.toWeight(CpuWeight.toShares(w)), "weight " + w);
        }
        for (long s = 11; s <= 102_400; s++) {
            long back = CpuWeight.toShares(CpuWeight.toWeight(s));
            assertTrue(back <= s && s - back <= 11, "shares " + s + " came back as " + back);
        }
    }

    @Test
    void groupNamesFollowLibvirtAndSystemd() {
        assertEquals(List.of("machine"), GroupNames.parent("machine", false));
        assertEquals(List.of("machine.slice"), GroupNames.parent("machine", true));
        assertEquals(List.of("a", "b"), GroupNames.parent("/a/b/", true));
        assertEquals("vm1.kvmtool", GroupNames.group(List.of("machine"), "vm1"));
        assertEquals("machine-my\\x2dvm.kvmtool.scope", GroupNames.group(List.of("machine.slice"), "my-vm"));
        assertEquals("machine-a_b.c.kvmtool.scope", GroupNames.group(List.of("x.slice"), "a_b.c"));
        assertEquals(ErrorCode.INVALID_ARG,
                assertThrows(KvmtoolException.class, () -> GroupNames.parent("../etc", false)).code());
        assertEquals(ErrorCode.INVALID_ARG,
                assertThrows(KvmtoolException.class, () -> GroupNames.group(List.of(), "a/b")).code());
        assertEquals(ErrorCode.INVALID_ARG,
                assertThrows(KvmtoolException.class, () -> GroupNames.group(List.of(), "..")).code());
    }
}

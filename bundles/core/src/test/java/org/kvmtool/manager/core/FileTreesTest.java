package org.kvmtool.manager.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @Test
    void aTreeGoesWithItsLinksButNotWhatTheyPointAt(@TempDir Path tmp) throws Exception {
        Path outside = Files.writeString(tmp.resolve("keep.txt"), "keep");
        Path home = tmp.resolve("home/7");
        Files.createDirectories(home.resolve(".lkvm"));
        Files.writeString(home.resolve(".lkvm/vm.sock"), "");
        Files.createSymbolicLink(home.resolve("link"), outside);
        Files.createSymbolicLink(home.resolve("dirlink"), tmp);
        FileTrees.deleteTree(home);
        assertFalse(Files.exists(home));
        assertTrue(Files.exists(outside), "a link's target stays");
        assertTrue(Files.isDirectory(tmp.resolve("home")));
        FileTrees.deleteTree(home); // absent: nothing to do
        FileTrees.deleteTree(outside); // a plain file is a tree of one
        assertFalse(Files.exists(outside));
    }
}

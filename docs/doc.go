// Package docs holds the project's documentation. Its tests check the pages
// against what the code and the build pin, so a page cannot drift from them.
package docs

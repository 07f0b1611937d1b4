// Package controller registers the provider's controllers with a manager.
package controller

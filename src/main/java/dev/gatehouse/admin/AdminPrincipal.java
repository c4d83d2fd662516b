package dev.gatehouse.admin;

/**
 * Who made an admin request: the admin credential's public id and name, its role, and how it was
 * presented ({@code bearer} for the Authorization header, {@code session} for the dashboard's
 * cookie). Never holds a secret.
 */
public record AdminPrincipal(String id, String name, Role role, String via) {}

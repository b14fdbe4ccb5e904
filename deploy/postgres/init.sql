-- One database per service: a service never reads another service's tables.
CREATE DATABASE identity;
CREATE DATABASE registration;
CREATE DATABASE review;
CREATE DATABASE notify;

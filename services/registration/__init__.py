"""The registration service (登记): campaigns, the exam roster, applications, registration numbers."""

import { Navigate, Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { Alerts } from "./pages/Alerts";
import { AcceptInvitation, ConfirmEmailChange, ForgotPassword, LogIn, ResetPassword, SignUp, VerifyEmail } from "./pages/Auth";
import { Billing } from "./pages/Billing";
import { Connections } from "./pages/Connections";
import { Endpoints } from "./pages/Endpoints";
import { EventDetail, Events } from "./pages/Events";
import { Overview } from "./pages/Overview";
import { PluginConfig, Plugins } from "./pages/Plugins";
import { Staff, StaffTenant } from "./pages/Staff";
import { Audit, Members } from "./pages/Team";
import { Account } from "./pages/Account";

export function App() {
  return (
    <Routes>
      <Route path="/" element={<Navigate to="/app" replace />} />
      <Route path="/app/login" element={<LogIn />} />
      <Route path="/app/signup" element={<SignUp />} />
      <Route path="/app/verify-email" element={<VerifyEmail />} />
      <Route path="/app/forgot-password" element={<ForgotPassword />} />
      <Route path="/app/reset-password" element={<ResetPassword />} />
      <Route path="/app/confirm-email" element={<ConfirmEmailChange />} />
      <Route path="/app/accept-invitation" element={<AcceptInvitation />} />
      <Route path="/app" element={<Layout />}>
        <Route index element={<Overview />} />
        <Route path="connections" element={<Connections />} />
        <Route path="endpoints" element={<Endpoints />} />
        <Route path="plugins" element={<Plugins />} />
        <Route path="plugins/:installationId" element={<PluginConfig />} />
        <Route path="events" element={<Events />} />
        <Route path="events/:eventId" element={<EventDetail />} />
        <Route path="billing" element={<Billing />} />
        <Route path="members" element={<Members />} />
        <Route path="alerts" element={<Alerts />} />
        <Route path="audit" element={<Audit />} />
        <Route path="account" element={<Account />} />
        <Route path="staff" element={<Staff />} />
        <Route path="staff/tenants/:tenantId" element={<StaffTenant />} />
      </Route>
      <Route path="*" element={<Navigate to="/app" replace />} />
    </Routes>
  );
}

// A site's JMS client as integrators write it: ActiveMQ's own JMS client over OpenWire (Debian
// libactivemq-java), request/reply like Spring's JmsTemplate.sendAndReceive (a temporary queue as
// JMSReplyTo, TextMessage, JMSPriority). Driven line by line on stdin by tests/interop/jms.test.ts;
// answers one tab-separated line per command on stdout. Compiled with javac at test time.
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import javax.jms.BytesMessage;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Queue;
import javax.jms.QueueBrowser;
import javax.jms.Session;
import javax.jms.TemporaryQueue;
import javax.jms.TextMessage;
import org.apache.activemq.ActiveMQConnectionFactory;

public class GradingJmsClient {
  private static final class Pending {
    final TemporaryQueue replyTo;
    final MessageConsumer consumer;
    Pending(TemporaryQueue replyTo, MessageConsumer consumer) {
      this.replyTo = replyTo;
      this.consumer = consumer;
    }
  }

  public static void main(String[] args) throws Exception {
    // args: brokerUrl username password
    ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(args[1], args[2], args[0]);
    Connection connection = factory.createConnection();
    connection.start();
    Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    Map<String, Pending> pending = new HashMap<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("READY");
    System.out.flush();
    for (String line; (line = in.readLine()) != null; ) {
      String[] cmd = line.split("\t", -1);
      try {
        switch (cmd[0]) {
          case "send": // send <name> <queue> <bodyFile> <priority> <correlationId or "">
            {
              TemporaryQueue replyTo = session.createTemporaryQueue();
              pending.put(cmd[1], new Pending(replyTo, session.createConsumer(replyTo)));
              TextMessage message = session.createTextMessage(new String(Files.readAllBytes(Paths.get(cmd[3])), StandardCharsets.UTF_8));
              message.setJMSReplyTo(replyTo);
              if (!cmd[5].isEmpty()) message.setJMSCorrelationID(cmd[5]);
              MessageProducer producer = session.createProducer(session.createQueue(cmd[2]));
              producer.send(message, DeliveryMode.PERSISTENT, Integer.parseInt(cmd[4]), 0);
              producer.close();
              out("SENT", cmd[1], message.getJMSMessageID());
              break;
            }
          case "await": // await <name> <timeoutMs>
            {
              Message reply = pending.get(cmd[1]).consumer.receive(Long.parseLong(cmd[2]));
              if (reply == null) out("TIMEOUT", cmd[1]);
              else out("REPLY", cmd[1], kind(reply), String.valueOf(reply.getJMSCorrelationID()), body(reply));
              break;
            }
          case "forget": // forget <name>: the requester gives up; its temporary reply queue is deleted
            {
              Pending p = pending.remove(cmd[1]);
              p.consumer.close();
              p.replyTo.delete();
              out("FORGOTTEN", cmd[1]);
              break;
            }
          case "browse": // browse <queue> <selector>: every message now on the queue that the selector picks
            {
              QueueBrowser browser = session.createBrowser(session.createQueue(cmd[1]), cmd[2]);
              int count = 0;
              for (Enumeration<?> e = browser.getEnumeration(); e.hasMoreElements(); count++) {
                Message m = (Message) e.nextElement();
                out("BROWSED", kind(m), String.valueOf(m.getJMSCorrelationID()), String.valueOf(m.getStringProperty("grading_error_reason")), body(m));
              }
              browser.close();
              out("END", String.valueOf(count));
              break;
            }
          case "quit":
            connection.close();
            return;
          default:
            out("ERROR", "unknown command " + cmd[0]);
        }
      } catch (Exception e) {
        out("ERROR", e.toString().replace('\t', ' ').replace('\n', ' '));
      }
    }
    connection.close();
  }

  private static String kind(Message m) {
    return m instanceof TextMessage ? "TextMessage" : m instanceof BytesMessage ? "BytesMessage" : m.getClass().getSimpleName();
  }

  private static String body(Message m) throws Exception {
    if (m instanceof TextMessage) return ((TextMessage) m).getText();
    if (m instanceof BytesMessage) {
      BytesMessage b = (BytesMessage) m;
      byte[] bytes = new byte[(int) b.getBodyLength()];
      b.readBytes(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    }
    return "";
  }

  private static void out(String... fields) {
    System.out.println(String.join("\t", fields));
    System.out.flush();
  }
}
